"""Star (Y) balance: stand on one leg, reach the other foot slowly toward each point of a
Y (3 points) or star (6 or 8), return to the centre between reaches, keep hips level.

Directions follow the Star Excursion Balance Test, as angles from straight ahead toward
the stance leg's medial side: Y = anterior, posteromedial, posterolateral (the Y Balance
Test); star = every 45 degrees (A, AM, M, PM, P, PL, L, AL); star6 = every 60.
Reach distance (foot tip from the stance mid-foot, % of leg length) is what healthy
athletes manage in those tests (Y Balance Test norms): about 75-90 % anteriorly,
95-110 % posteriorly, in between straight across, randomised per person and reach. The
stance knee bends about 55-80 degrees at full reach, the hips go back, the trunk tips
forward and the pelvis turns to carry the reaching hip back for the posterior reaches,
as in the published kinematics of the test.

A balance_loss fault is a real touch-down: the reaching foot slows, lands where it has
got to, takes a little weight (the hips shift toward it), then lifts and goes on.

side = stance leg. Events: one `reach` count per reach (t_s leaving the centre,
t_end_s back, value = reach % of leg length, message = direction), side = stance leg.
"""

from __future__ import annotations

import numpy as np

from formcheck.events import Event
from formcheck.pose.landmarks import other_side
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, PoseIntent
from formcheck.synth.motion import (
    Motion,
    Timeline,
    add_valgus,
    arms_on_hips,
    arms_out,
    envelope,
    fault_envelope,
    faults_of,
    frame_times,
    local_to_scene,
    pelvis_height,
    set_foot,
    sway,
)
from formcheck.synth.spec import SynthSpec

DIRECTIONS: dict[str, list[tuple[str, float]]] = {
    "y": [("anterior", 0.0), ("posteromedial", 135.0), ("posterolateral", -135.0)],
    "star6": [("anterior", 0.0), ("anteromedial", 60.0), ("posteromedial", 120.0),
              ("posterior", 180.0), ("posterolateral", -120.0), ("anterolateral", -60.0)],
    "star": [("anterior", 0.0), ("anteromedial", 45.0), ("medial", 90.0), ("posteromedial", 135.0),
             ("posterior", 180.0), ("posterolateral", -135.0), ("lateral", -90.0),
             ("anterolateral", -45.0)],
}

TOUCH_RAMP_S = 0.3  # a touching-down foot slows and lands (and lifts again) over this
BEAR_SHARE, BEAR_MAX_M = 0.12, 0.06  # a touched-down foot draws the hips this share of the way (at most)
HOVER_M = 0.07  # raised foot tip above the floor at the centre
REACH_HOVER_M = 0.03  # ... and at full reach: close to the floor without touching it
REACH_PITCH = 25.0  # the reaching foot points its toes toward the target


def _reach_frac(phi: float) -> float:
    """Typical reach as a share of leg length: about 0.82 straight ahead or across,
    1.0 to the back diagonals, 1.08 straight back (the person's own spread on top)."""
    return 0.82 + 0.26 * max(0.0, -np.cos(np.radians(phi)))


# Pelvis turn (deg) carrying the reaching hip back for a posterior reach: more when the
# foot crosses behind the stance leg.
BACK_TURN = {"crossing": 30.0, "open": 15.0}


def build(spec: SynthSpec, body: BodyDims, rng: np.random.Generator) -> Motion:
    var = spec.variation
    tempo = 1.0 + var * rng.uniform(-0.12, 0.2)
    amp = 1.0 + var * rng.uniform(-0.08, 0.06)
    heading0 = var * rng.uniform(-5, 5)
    origin = np.array([var * rng.uniform(-0.15, 0.15), 0.0, var * rng.uniform(-0.15, 0.15)])
    points = DIRECTIONS[spec.resolved_variant or "y"]
    n_sets = spec.sets or 6
    reps = spec.reps or len(points)
    rest_s = spec.rest_s if spec.rest_s is not None else 4.0
    sides = [spec.side] + ([other_side(spec.side)] if spec.both_sides else [])
    hands_on_hips = rng.uniform() < 0.65 if var > 0 else True

    stance_w = body.hip_w * 1.0
    toe_out0 = 7.0
    home = {s: np.array([SIDE_SIGN[s] * stance_w / 2, 0.0, body.foot - body.heel_back])
            for s in ("left", "right")}
    mid_home = {s: home[s] - np.array([0.0, 0.0, body.foot / 2]) for s in home}

    tl = Timeline(toe_left=home["left"], toe_right=home["right"], w_left=0.0, w_right=0.0,
                  knee=5.0, hips_back=0.0, trunk_flex=3.0, pelvis_rot=0.0, pitch_left=0.0,
                  pitch_right=0.0, neck=12.0)
    events: list[Event] = []
    sets: list[dict] = []
    tl.wait(1.5 * tempo)
    for stance in sides:
        free = other_side(stance)
        hover = home[free] + np.array([-SIDE_SIGN[free] * 0.03, HOVER_M, -0.02])
        for set_i in range(n_sets):
            # Shift the weight over the stance foot, then lift the other one.
            tl.move(0.8 * tempo, **{f"w_{stance}": 1.0})
            tl.move(0.25 * tempo, **{f"toe_{free}": home[free] + np.array([0, 0.02, 0])})
            tl.move(0.45 * tempo, **{f"toe_{free}": hover, f"pitch_{free}": 12.0, "knee": 8.0})
            tl.wait(0.4 * tempo)
            set_start = tl.now
            for j in range(reps):
                name, phi = points[j % len(points)]
                frac = _reach_frac(phi) * amp * (1.0 + var * rng.uniform(-0.03, 0.03))
                ang = np.radians(phi)
                # Direction on the floor: phi from straight ahead toward the stance leg's medial side.
                d = np.array([-SIDE_SIGN[stance] * np.sin(ang), 0.0, np.cos(ang)])
                lateral = np.dot(d, [SIDE_SIGN[stance], 0, 0]) > 0.2
                back = np.cos(ang) < -0.3
                knee_peak = (82.0 if back else 72.0) + rng.uniform(-4, 4) * var
                hips = 0.22 if back else 0.10
                turn = -SIDE_SIGN[stance] * BACK_TURN["crossing" if lateral else "open"] if back \
                    else -SIDE_SIGN[stance] * 6.0 * np.sin(ang)
                frac = _reachable(body, stance, mid_home[stance], d, frac, knee_peak, hips, turn)
                target = mid_home[stance] + d * frac * body.leg
                target[1] = REACH_HOVER_M
                flex = 40.0 if back else 18.0
                t0 = tl.now
                out_s = 1.3 * tempo
                if lateral:
                    # Cross behind (or in front of) the stance leg, never through it.
                    via = mid_home[stance] + np.array([SIDE_SIGN[stance] * 0.02, 0.09,
                                                       -0.24 if np.cos(ang) <= 0 else 0.26])
                    tl.move(out_s * 0.45, **{f"toe_{free}": via, "knee": knee_peak * 0.6,
                                             "hips_back": hips * 0.6, "trunk_flex": flex * 0.6})
                    tl.move(out_s * 0.55, **{f"toe_{free}": target, "knee": knee_peak,
                                             "hips_back": hips, "trunk_flex": flex,
                                             f"pitch_{free}": REACH_PITCH, "pelvis_rot": turn})
                else:
                    tl.move(out_s, **{f"toe_{free}": target, "knee": knee_peak, "hips_back": hips,
                                      "trunk_flex": flex, f"pitch_{free}": REACH_PITCH,
                                      "pelvis_rot": turn})
                t_peak = tl.now
                tl.wait(0.4 * tempo)
                if lateral:
                    tl.move(out_s * 0.55, **{f"toe_{free}": via, "knee": knee_peak * 0.6,
                                             "hips_back": hips * 0.6, "trunk_flex": flex * 0.6})
                    tl.move(out_s * 0.45, **{f"toe_{free}": hover, "knee": 8.0, "hips_back": 0.0,
                                             "trunk_flex": 3.0, f"pitch_{free}": 12.0, "pelvis_rot": 0.0})
                else:
                    tl.move(out_s, **{f"toe_{free}": hover, "knee": 8.0, "hips_back": 0.0,
                                      "trunk_flex": 3.0, "pelvis_rot": 0.0, f"pitch_{free}": 12.0})
                t1 = tl.now
                tl.wait(0.5 * tempo)
                pct = 100.0 * float(np.linalg.norm((target - mid_home[stance])[[0, 2]])) / body.leg
                events.append(Event(t0, "reach", "count", name, stance, t1, round(pct, 1)))
                _ = t_peak
            sets.append({"side": stance, "t_s": set_start, "t_end_s": tl.now, "reps": reps})
            # Foot down flat and rest between sets (and after the last one).
            tl.move(0.5 * tempo, **{f"toe_{free}": home[free] + np.array([0, 0.015, 0]),
                                    f"pitch_{free}": 0.0})
            tl.move(0.3 * tempo, **{f"toe_{free}": home[free]})
            tl.move(0.6 * tempo, **{f"w_{stance}": 0.0, "knee": 5.0})
            tl.wait(rest_s if set_i < n_sets - 1 else 1.5)

    t = frame_times(tl.now, spec.fps, spec.duration_s)
    T = len(t)
    intent = PoseIntent.neutral(t)
    intent.heading = heading0 + sway(t, rng, 0.6 * var, 6.0)

    def scene(p: np.ndarray) -> np.ndarray:
        return local_to_scene(origin, intent.heading, p)

    toe = {s: tl.sample(f"toe_{s}", t) for s in ("left", "right")}
    w = {s: tl.sample(f"w_{s}", t) for s in ("left", "right")}
    stance_of = np.where(w["left"] > 0.5, "left", np.where(w["right"] > 0.5, "right", "both"))

    # Fault: balance loss - a real touch-down. The raised foot slows to a stop where it
    # has got to, comes down flat and takes a little weight (bear: share of the way the
    # hips shift toward it), then lifts and rejoins its path.
    raised_env = {s: np.zeros(T) for s in ("left", "right")}
    bear = np.zeros(T)
    bear_at = np.zeros((T, 3))
    for f in faults_of(spec, "balance_loss"):
        env = envelope(t, f.start_s, f.end_s, TOUCH_RAMP_S)
        i0 = min(int(np.searchsorted(t, f.start_s)), T - 1)
        for s in ("left", "right"):
            if not w[other_side(s)][i0] > 0.5:
                continue
            raised = w[other_side(s)] > 0.5
            e = env * raised
            # Where it lands: where it was heading a little after the slow-down began. It
            # comes down only as it stops, and is off the floor before it moves on.
            land = toe[s][min(int(np.searchsorted(t, f.start_s + TOUCH_RAMP_S / 2)), T - 1)].copy()
            e_down = envelope(t, f.start_s + 0.4 * TOUCH_RAMP_S, f.end_s, 0.2) * raised
            e = envelope(t, f.start_s, f.end_s + TOUCH_RAMP_S, TOUCH_RAMP_S) * raised
            toe[s][:, [0, 2]] += (land[[0, 2]] - toe[s][:, [0, 2]]) * e[:, None]
            toe[s][:, 1] *= 1.0 - e_down
            raised_env[s] = np.maximum(raised_env[s], e)
            b = BEAR_SHARE * envelope(t, f.start_s + TOUCH_RAMP_S, f.end_s - TOUCH_RAMP_S / 2, 0.15) * raised
            bear = np.maximum(bear, b)
            bear_at[b > 0] = land
    for s in ("left", "right"):
        # Far out the foot lands on its forefoot, heel a little up, as far as the leg goes.
        pitch = tl.sample(f"pitch_{s}", t) * (1.0 - 0.6 * raised_env[s])
        set_foot(intent, body, s, scene(toe[s]), toe_out0, pitch)

    # Pelvis over the stance mid-foot, hips back as the knee bends.
    mid_feet = (mid_home["left"] + mid_home["right"]) / 2
    wl, wr = w["left"], w["right"]
    lat = mid_feet[0] + wl * (mid_home["left"][0] - mid_feet[0]) + wr * (mid_home["right"][0] - mid_feet[0])
    lat = lat - (wl - wr) * 0.012  # the centre of mass sits just inside the stance foot
    hips_back = tl.sample("hips_back", t)
    local_pelvis = np.stack([lat + sway(t, rng, 0.008 * var, 3.0), np.zeros(T),
                             mid_feet[2] - hips_back + sway(t, rng, 0.01 * var, 4.0)], -1)
    # A touched-down foot that takes weight draws the hips toward it.
    pull = bear[:, None] * (bear_at[:, [0, 2]] - local_pelvis[:, [0, 2]])
    n = np.linalg.norm(pull, axis=1, keepdims=True)
    local_pelvis[:, [0, 2]] += pull * np.minimum(1.0, BEAR_MAX_M / np.maximum(n, 1e-9))
    intent.pelvis = scene(local_pelvis)
    intent.pelvis_rotation = tl.sample("pelvis_rot", t)
    intent.pelvis_tilt = 8.0 + tl.sample("trunk_flex", t) * 0.5
    single = np.maximum(wl, wr)
    stance_sign = np.where(wl >= wr, 1.0, -1.0)  # +1 left stance
    obliq = sway(t, rng, 0.8 * var, 3.0) * single
    drop = fault_envelope(t, faults_of(spec, "pelvic_drop")) * single
    # A drop on the raised-leg side: raised right (stance left) lowers the right hip = +obliquity.
    intent.pelvis_obliquity = obliq + stance_sign * drop
    knee = tl.sample("knee", t)
    flex = {}
    for s in ("left", "right"):
        on_floor = toe[s][:, 1] < 0.005
        flex[s] = np.where(w[s] > 0.5, knee, np.where(on_floor, 3.0, -30.0))
    intent.pelvis[:, 1] = pelvis_height(intent, body, flex)

    intent.trunk_flex = tl.sample("trunk_flex", t) + sway(t, rng, 1.0 * var, 5.0)
    lean = fault_envelope(t, faults_of(spec, "trunk_lean"))
    lean_sign = np.full(T, 1.0)
    for f in faults_of(spec, "trunk_lean"):
        if f.side is not None:
            lean_sign[:] = SIDE_SIGN[f.side]
        else:
            lean_sign = stance_sign
    intent.trunk_lateral = stance_sign * 2.0 * single + sway(t, rng, 0.8 * var, 4.0) + lean_sign * lean
    intent.neck_flex = tl.sample("neck", t) + sway(t, rng, 3.0 * var, 5.0)
    intent.neck_rotation = sway(t, rng, 4.0 * var, 7.0)
    if hands_on_hips:
        arms_on_hips(intent, body)
    else:
        arms_out(intent, body, 30.0 + sway(t, rng, 6.0 * var, 3.0))

    for f in faults_of(spec, "knee_valgus"):
        for s in ("left", "right"):
            side = f.side or None
            mask = (w[s] > 0.5) if side is None else np.full(T, s == side)
            add_valgus(intent, body, s, envelope(t, f.start_s, f.end_s) * mask, f.value)

    fault_events = _fault_events(spec, t, w)
    reach_pct = _reach_pct(t, toe, mid_home, w, body)
    labels = {"stance": [str(x) for x in stance_of]}

    def derive(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        st_sign = np.where(stance_of == "left", 1.0, np.where(stance_of == "right", -1.0, np.nan))
        # + when the raised-leg hip is lower: stance left, raised right hip lower = +obliquity.
        out = {"pelvic_drop_deg": st_sign * v["pelvic_obliquity_deg"],
               "reach_pct": reach_pct}
        st = np.where(stance_of == "left", 0, 1)
        out["knee_valgus_deg"] = np.where(st == 0, v["knee_valgus_deg_left"], v["knee_valgus_deg_right"])
        out["knee_valgus_deg"] = np.where(stance_of == "both", np.nan, out["knee_valgus_deg"])
        free_toe_h = np.where(st == 0, v["toe_height_cm_right"], v["toe_height_cm_left"])
        out["raised_foot_height_cm"] = np.where(stance_of == "both", np.nan, free_toe_h)
        out["trunk_lean_abs_deg"] = np.abs(v["trunk_lean_deg"])
        return out

    return Motion(intent, events + fault_events, sets, labels, props={}, camera_height_m=1.0,
                  working_side=spec.side, derive=derive)


def _reachable(body: BodyDims, stance: str, centre: np.ndarray, d: np.ndarray, frac: float,
               knee: float, hips_back: float, turn: float = 0.0) -> float:
    """Shorten a reach until the raised leg can get there from where the bent stance leg
    holds the pelvis, turned `turn` degrees (people reach as far as their legs allow)."""
    k = np.radians(180 - knee)
    stance_len = np.sqrt(body.thigh ** 2 + body.shank ** 2 - 2 * body.thigh * body.shank * np.cos(k))
    hip_y = body.ankle_h + stance_len * 0.97
    a = np.radians(turn)
    # The pelvis sits over the stance foot and turns about its middle.
    across = -SIDE_SIGN[stance] * body.hip_w / 2 * np.array([np.cos(a), 0.0, -np.sin(a)])
    free_hip = np.array([centre[0], hip_y, centre[2] - hips_back]) + across
    p = np.radians(REACH_PITCH)
    tip = body.foot - body.heel_back
    # Ankle relative to the foot tip of a foot pitched toes-down, pointing ahead.
    ankle_back = np.array([0.0, tip * np.sin(p) + body.ankle_h * np.cos(p),
                           -(tip * np.cos(p) - body.ankle_h * np.sin(p))])
    while frac > 0.3:
        ankle = centre + d * frac * body.leg + ankle_back
        ankle[1] += REACH_HOVER_M
        if np.linalg.norm(ankle - free_hip) <= 0.955 * body.leg:
            break
        frac *= 0.97
    return frac


def _reach_pct(t, toe, mid_home, w, body) -> np.ndarray:
    out = np.full(len(t), np.nan)
    for stance in ("left", "right"):
        free = other_side(stance)
        d = np.linalg.norm((toe[free] - mid_home[stance])[:, [0, 2]], axis=1)
        out = np.where(w[stance] > 0.5, 100 * d / body.leg, out)
    return out


def _fault_events(spec: SynthSpec, t: np.ndarray, w: dict[str, np.ndarray]) -> list[Event]:
    from formcheck.cues import cue_message

    out = []
    for f in spec.faults:
        i = min(np.searchsorted(t, (f.start_s + f.end_s) / 2), len(t) - 1)
        stance = "left" if w["left"][i] > 0.5 else "right" if w["right"][i] > 0.5 else spec.side
        raised = other_side(stance)
        side = f.side or {"pelvic_drop": raised, "knee_valgus": stance, "balance_loss": raised,
                          "trunk_lean": None}.get(f.code)
        if f.start_s >= t[-1]:
            continue
        out.append(Event(f.start_s, f.code, "fault", cue_message(f.code, side), side,
                         min(f.end_s, float(t[-1])), f.value))
    return out
