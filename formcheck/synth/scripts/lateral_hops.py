"""Lateral agility hops over a strap on the floor, filmed from the front.

The strap runs straight ahead of the person (along their forward axis). Balanced on
the foot further from it, they hop sideways over it and land on the other foot (the
`switch` variant, default), or hop back and forth on one foot (`single-leg`). Sets of
15 hops (3 sets) with a rest standing on both feet between them.

Timing and depth follow published data on repeated lateral hopping: ground contact
0.3-0.45 s, flight 0.25-0.32 s (about 1.5 hops a second), landing knee flexion peaking
at 40-50 degrees about 40 % into the contact, the foot striking forefoot first and
leaving from the toes. The pelvis flies a ballistic arc between take-off and touch-down,
and the take-off foot folds up under the body, its toe about 9-11 cm clear of the floor
halfway through every flight. The person starts in an athletic ready stance on both feet
(knees 16-24 degrees), then shifts onto the start foot.

side = the foot the person starts on (further from the strap); single-leg: the hopping foot.
Events: one `hop` count per hop (t_s take-off, t_end_s touch-down, side = landing foot,
None when landing on both; value = how far the landing foot's centre is past the strap
in cm, negative when short). Fault events start at the touch-down of an affected hop
and end at its next take-off (a hop is affected when it lands inside the fault's window):
short_hop (cm short of the strap; the person then hops again in the same direction),
stiff_landing (deg peak knee flexion), knee_valgus (deg, landing knee), wrong_foot
(mode 'other': lands on the other foot; 'both': on both feet; the event's side is the
foot that should have landed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.events import Event
from formcheck.pose.landmarks import other_side
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, PoseIntent
from formcheck.synth.motion import (
    Motion,
    add_valgus,
    arms_hanging,
    ease,
    fault_event,
    frame_times,
    keyframes,
    local_to_scene,
    pelvis_height,
    set_foot,
    sway,
)
from formcheck.synth.spec import Fault, SynthSpec

G = 9.81
HOP_OFFSET_M = 0.26  # landing foot centre from the strap
STAND_NEAR_M = 0.10  # the near foot's centre from the strap when standing on both feet


@dataclass
class Contact:
    """One ground contact: which feet, where (x of each foot centre), when."""

    feet: tuple[str, ...]
    x: dict[str, float]
    t_down: float
    t_up: float
    arrive: float  # direction of the hop that landed here (+1 toward +x, 0 = standing start)
    leave: float  # direction of the next hop (0 = none)
    knee_peak: float = 45.0
    valgus: float = 0.0


def build(spec: SynthSpec, body: BodyDims, rng: np.random.Generator) -> Motion:
    var = spec.variation
    tempo = 1.0 + var * rng.uniform(-0.1, 0.15)
    heading0 = var * rng.uniform(-5, 5)
    origin = np.array([var * rng.uniform(-0.15, 0.15), 0.0, var * rng.uniform(-0.15, 0.15)])
    single = spec.resolved_variant == "single-leg"
    n_sets = spec.sets or 3
    reps = spec.reps or 15
    rest_s = spec.rest_s if spec.rest_s is not None else 15.0
    start = spec.side
    D = HOP_OFFSET_M * (body.height / 1.75) * (1 + var * rng.uniform(-0.08, 0.1))

    def faults_at(code: str, t_land: float) -> list[Fault]:
        return [f for f in spec.faults if f.code == code and f.start_s <= t_land <= f.end_s]

    # The side of the strap the person stands on: the start foot is the one further away.
    here = SIDE_SIGN[start]  # +1: standing at +x (the strap on their right)
    contacts: list[Contact] = []
    hops: list[dict] = []
    events: list[Event] = []
    sets: list[dict] = []
    near = other_side(start)
    t = 1.5 * tempo
    stand_x = {start: here * D, near: here * STAND_NEAR_M}
    # Athletic ready stance on both feet: knees softly bent, not a half squat.
    ready_knee = 20.0 + var * rng.uniform(-4.0, 4.0)
    contacts.append(Contact((start, near), dict(stand_x), 0.0, t, 0.0, 0.0, ready_knee))
    # Shift onto the start foot and lift the other.
    t_lift = t + 0.9 * tempo
    foot = start
    contacts.append(Contact((foot,), {foot: here * D}, t, t_lift, 0.0, -here, knee_peak=8.0))
    pos = here * D  # current stance foot centre
    t = t_lift
    for set_i in range(n_sets):
        set_start = t
        done = 0
        while done < reps:
            # Always toward the other side of the strap: after a short hop that is the
            # same direction again (the person tries once more).
            direction = -1.0 if pos > 0 else 1.0
            flight = (0.28 + var * rng.uniform(-0.02, 0.03))
            contact_s = 0.38 * tempo + var * rng.uniform(-0.03, 0.03)
            t_off = t
            t_land = t_off + flight
            intended = direction * D
            expected_foot = start if single else ("left" if direction > 0 else "right")
            wrong = faults_at("wrong_foot", t_land)
            short = faults_at("short_hop", t_land)
            stiff = faults_at("stiff_landing", t_land)
            valg = faults_at("knee_valgus", t_land)
            land_x = intended
            if short:
                land_x = -direction * short[0].value / 100.0
            feet: tuple[str, ...] = (expected_foot,)
            xs = {expected_foot: land_x}
            landing_side: str | None = expected_foot
            if wrong:
                mode = wrong[0].mode or "other"
                if mode == "both":
                    other = other_side(expected_foot)
                    feet = (expected_foot, other)
                    # Leading foot at the usual spot, trailing one a hip width nearer the strap.
                    lead = "left" if direction > 0 else "right"
                    xs = {lead: land_x, other_side(lead): land_x - direction * 0.8 * body.hip_w}
                    landing_side = None
                else:
                    feet = (other_side(expected_foot),)
                    xs = {feet[0]: land_x - direction * 0.05}
                    landing_side = feet[0]
            knee_peak = stiff[0].value if stiff else 45.0 + var * rng.uniform(-5, 5)
            last_of_set = (done + 1 == reps) and not short
            c = Contact(feet, xs, t_land, t_land + (1.0 if last_of_set else contact_s), direction,
                        0.0, knee_peak, valg[0].value if valg else 0.0)
            contacts[-1].leave = direction
            contacts.append(c)
            crossed_cm = 100 * direction * float(np.mean(list(xs.values())))
            hops.append({"t_off": t_off, "t_land": t_land, "side": landing_side, "value": crossed_cm})
            events.append(Event(t_off, "hop", "count", "short" if short else "over", landing_side,
                                t_land, round(crossed_cm, 1)))
            for f in wrong:
                ev = fault_event(f, expected_foot, 1e9, t_land, c.t_up)
                events.append(ev)
            for f in short + stiff + valg:
                ev = fault_event(f, landing_side or expected_foot, 1e9, t_land, c.t_up)
                events.append(ev)
            done += 1
            pos = float(np.mean(list(xs.values())))
            t = c.t_up
        sets.append({"side": start if single else None, "t_s": set_start, "t_end_s": t, "reps": reps})
        # Rest on both feet (the lifted foot comes down beside the other), then go again.
        last = contacts[-1]
        side_now = 1.0 if pos > 0 else -1.0
        on = last.feet[0]
        stand = {on: last.x[on]}
        other = other_side(on)
        if other not in last.x:
            stand[other] = side_now * STAND_NEAR_M if abs(last.x[on]) > STAND_NEAR_M + 0.1 \
                else side_now * (abs(last.x[on]) + 0.18)
        else:
            stand[other] = last.x[other]
        if set_i < n_sets - 1:
            contacts.append(Contact(("left", "right"), stand, t, t + rest_s, 0.0, 0.0, 5.0))
            t += rest_s
            far = max(stand, key=lambda s: abs(stand[s]))
            if single:
                far = start
            contacts.append(Contact((far,), {far: stand[far]}, t, t + 0.9 * tempo, 0.0, -side_now, 8.0))
            pos = stand[far]
            t += 0.9 * tempo
        else:
            contacts.append(Contact(("left", "right"), stand, t, t + 1.5, 0.0, 0.0, 5.0))
            t += 1.5

    times = frame_times(t, spec.fps, spec.duration_s)
    return _assemble(spec, body, rng, times, contacts, events, sets, origin, heading0, single)


def _assemble(spec: SynthSpec, body: BodyDims, rng: np.random.Generator, t: np.ndarray,
              contacts: list[Contact], events: list[Event], sets: list[dict], origin: np.ndarray,
              heading0: float, single: bool) -> Motion:
    var = spec.variation
    T = len(t)
    intent = PoseIntent.neutral(t)
    intent.heading = heading0 + sway(t, rng, 0.8 * var, 6.0)

    # Which contact each frame belongs to (or a flight between two).
    starts = np.array([c.t_down for c in contacts])
    ends = np.array([c.t_up for c in contacts])
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(contacts) - 1)
    in_contact = t <= ends[idx]

    # Pelvis x: over the stance foot, arriving from the strap side, leaving toward the next hop.
    px = np.zeros(T)
    for i, c in enumerate(contacts):
        m = (idx == i) & in_contact
        xf = float(np.mean(list(c.x.values())))
        x0 = xf - c.arrive * 0.06
        x1 = xf + c.leave * 0.06
        u = np.clip((t[m] - c.t_down) / max(c.t_up - c.t_down, 1e-6), 0, 1)
        # Quadratic through arrival, over-the-foot at 40 %, departure.
        if c.arrive == 0 and c.leave == 0:
            px[m] = xf
        else:
            px[m] = _quad(u, x0, xf, x1)
        # Flight after this contact: straight across at constant speed.
        if i + 1 < len(contacts):
            nxt = contacts[i + 1]
            f = (idx == i) & ~in_contact
            xn = float(np.mean(list(nxt.x.values()))) - nxt.arrive * 0.06
            u = (t[f] - c.t_up) / max(nxt.t_down - c.t_up, 1e-6)
            px[f] = x1 + (xn - x1) * u
    stance_label = np.full(T, "none", dtype=object)
    for i, c in enumerate(contacts):
        m = (idx == i) & in_contact
        stance_label[m] = "both" if len(c.feet) == 2 else c.feet[0]

    # Feet: keyframes per foot through contacts and flights.
    keys = {s: ([], [], []) for s in ("left", "right")}  # times, toe positions, pitch

    def carried(s: str, tt: float, x_pelvis: float) -> np.ndarray:
        # A lifted foot is held beside and a little behind the stance leg, knee bent.
        return np.array([x_pelvis + SIDE_SIGN[s] * body.hip_w * 0.55, 0.17 * body.height / 1.75,
                         body.foot * 0.25])

    def key(s: str, tt: float, x: float, y: float, pitch: float) -> None:
        kt, kp, kq = keys[s]
        if kt and tt <= kt[-1] + 1e-4:
            return
        kt.append(tt)
        kp.append(np.array([x, y, body.foot - body.heel_back]))
        kq.append(pitch)

    # Toe clearance of a foot that has just pushed off, halfway through the flight: the
    # knee folds it up under the body (a few centimetres would catch the strap).
    clear_m = (0.09 + var * rng.uniform(-0.01, 0.02)) * body.height / 1.75

    def px_of(tt: float) -> float:
        return float(np.interp(tt, t, px)) if T > 1 else 0.0

    for s in ("left", "right"):
        for i, c in enumerate(contacts):
            px_at = px_of(c.t_down)
            if s in c.feet:
                dur = c.t_up - c.t_down
                key(s, c.t_down, c.x[s], 0.0, 12.0 if c.arrive else 0.0)
                key(s, c.t_down + min(0.1, dur / 3), c.x[s], 0.0, 0.0)
                if c.leave:
                    key(s, c.t_up - min(0.15, dur / 3), c.x[s], 0.0, 0.0)
                    key(s, c.t_up, c.x[s], 0.0, 28.0)
                    if i + 1 < len(contacts):
                        # Every hop has a real flight: the take-off foot rises with the
                        # body, clear of the floor, whatever the next contact's length.
                        t_mid = (c.t_up + contacts[i + 1].t_down) / 2
                        key(s, t_mid, c.x[s] + px_of(t_mid) - px_of(c.t_up), clear_m, 20.0)
                else:
                    key(s, c.t_up, c.x[s], 0.0, 0.0)
            else:
                # In the air during this contact: carried beside the body.
                mid = (c.t_down + c.t_up) / 2
                c_pos = carried(s, mid, px_at)
                key(s, max(c.t_down + 0.12, mid - 0.05), c_pos[0], c_pos[1], 18.0)
                # Reach toward the next landing spot just before touch-down.
                if i + 1 < len(contacts) and s in contacts[i + 1].feet:
                    nxt = contacts[i + 1]
                    pre = nxt.t_down - 0.1
                    if pre > keys[s][0][-1] + 0.05:
                        key(s, pre, nxt.x[s] - nxt.arrive * 0.05, 0.05, 18.0)
    toe = {}
    pitch = {}
    for s in ("left", "right"):
        kt, kp, kq = keys[s]
        toe[s] = keyframes(t, kt, kp)
        pitch[s] = keyframes(t, kt, kq)
    for s in ("left", "right"):
        local = toe[s]
        heading = intent.heading
        set_foot(intent, body, s, local_to_scene(origin, heading, local), 8.0, pitch[s])

    # Knee flexion of the stance leg(s) through each contact; pelvis height from it.
    flex = {s: np.full(T, -1.0) for s in ("left", "right")}
    k_prev = contacts[0].knee_peak
    for i, c in enumerate(contacts):
        m = (idx == i) & in_contact
        u = np.clip((t[m] - c.t_down) / max(c.t_up - c.t_down, 1e-6), 0, 1)
        if c.arrive:
            k_td, k_pk, k_to = 14.0, c.knee_peak, 8.0 if c.leave else 10.0
            if not c.leave:  # landing that ends a set: absorb, then stand up tall
                k = np.where(u < 0.25, k_td + (k_pk - k_td) * ease(u / 0.25),
                             k_pk + (k_to - k_pk) * ease((u - 0.25) / 0.5))
            else:
                k = np.where(u < 0.45, k_td + (k_pk - k_td) * ease(u / 0.45),
                             k_pk + (k_to - k_pk) * ease((u - 0.45) / 0.55))
        else:
            # Standing: settle from the previous posture's knee bend into this one.
            dur = max(c.t_up - c.t_down, 1e-6)
            k = k_prev + (c.knee_peak - k_prev) * ease(np.clip(u * dur / 0.4, 0, 1))
            if c.leave:  # a standing start: dip before the first hop
                k = k + 22.0 * np.sin(np.pi * np.clip((u - 0.6) / 0.4, 0, 1)) ** 2
        for s in c.feet:
            flex[s][m] = k
        k_prev = (8.0 if c.leave else 10.0) if c.arrive else c.knee_peak
    local_pelvis = np.stack([px + sway(t, rng, 0.005 * var, 3.0), np.zeros(T),
                             np.full(T, -0.02) + sway(t, rng, 0.01 * var, 4.0)], -1)
    intent.pelvis = local_to_scene(origin, intent.heading, local_pelvis)
    intent.pelvis_tilt = np.full(T, 10.0)
    intent.pelvis_obliquity = sway(t, rng, 1.0 * var, 2.0)
    y = pelvis_height(intent, body, flex)
    y = np.where(in_contact, y, np.nan)
    ok = np.isfinite(y)
    y = np.interp(t, t[ok], y[ok]) if ok.any() else np.full(T, body.hip_height)
    for i, c in enumerate(contacts[:-1]):
        f = (idx == i) & ~in_contact
        t0, t1 = c.t_up, contacts[i + 1].t_down
        y[f] += 0.5 * G * (t[f] - t0) * (t1 - t[f])
    intent.pelvis[:, 1] = y

    intent.trunk_flex = 12.0 + sway(t, rng, 2.0 * var, 3.0)
    # The trunk leans a little into each hop's direction of travel.
    vx = np.gradient(px, t) if T > 1 else np.zeros(T)
    intent.trunk_lateral = np.clip(vx * 3.0, -5, 5) + sway(t, rng, 1.0 * var, 3.0)
    intent.neck_flex = 15.0 + sway(t, rng, 3.0 * var, 4.0)
    arms_hanging(intent, body, spread_m=0.12 + 0.06 * np.abs(np.sin(np.pi * t / 0.7)), elbow_bend=0.93,
                 forward_m=0.08)

    for i, c in enumerate(contacts):
        if c.valgus > 0:
            m = (idx == i) & in_contact
            env = np.zeros(T)
            u = np.clip((t - c.t_down) / max(c.t_up - c.t_down, 1e-6), 0, 1)
            env[m] = np.sin(np.pi * u[m]) ** 0.5
            for s in c.feet:
                add_valgus(intent, body, s, env, c.valgus)

    t_last = float(t[-1])
    # A hop that has not landed by the end of the clip is not a hop yet; a fault still on
    # at the end is cut there.
    events = [e if e.t_end_s is None or e.t_end_s <= t_last else
              Event(e.t_s, e.code, e.kind, e.message, e.side, t_last, e.value)
              for e in events if e.t_s < t_last and not (e.kind == "count" and e.t_end_s > t_last)]

    strap = {"start": local_to_scene(origin, np.array([heading0]), np.array([[0.0, 0.0, -0.6]]))[0],
             "end": local_to_scene(origin, np.array([heading0]), np.array([[0.0, 0.0, 0.9]]))[0],
             "width_m": 0.05}
    in_flight = (~in_contact).astype(float)

    def derive(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        knee = np.full(T, np.nan)
        for s in ("left", "right"):
            knee = np.where(stance_label == s, v[f"knee_flexion_deg_{s}"], knee)
        return {"in_flight": in_flight, "stance_knee_flexion_deg": knee,
                "strap_offset_cm": 100 * px}

    return Motion(intent, events, sets, {"stance": [str(x) for x in stance_label]},
                  props={"strap": strap}, camera_height_m=1.0, working_side=spec.side, derive=derive)


def _quad(u: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """Quadratic through (0, a), (0.4, b), (1, c)."""
    l0 = (u - 0.4) * (u - 1.0) / (0.4 * 1.0)
    l1 = u * (u - 1.0) / (0.4 * -0.6)
    l2 = u * (u - 0.4) / (1.0 * 0.6)
    return a * l0 + b * l1 + c * l2
