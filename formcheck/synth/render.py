"""Render a synthetic clip to video: a shaded mannequin (capsule limbs, ellipsoid torso and
head, a face, hair, clothes and shoes) with the drill's props, drawn back to front with
OpenCV fills, then the camera's blur, noise and compression.

Shading is banded: each capsule or ellipsoid is filled dark and overdrawn by smaller,
lighter copies shifted toward the light, which reads as a lit round body to a person and
to the pose model alike, at a few hundred primitives a millisecond. The static background
(room, floor, fixed props) is drawn once per clip.

`render_clip(spec, out_path)` writes `<out>.mp4` and `<out>.truth.json`; the truth comes
from the same motion and the same camera at the rendered resolution.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from formcheck.errors import InputError
from formcheck.pose.landmarks import LM
from formcheck.report.session import write_json_atomic
from formcheck.synth.body import HEAD_RADII
from formcheck.synth.clip import SynthClip, landmark_clip
from formcheck.synth.kin import apply, unit
from formcheck.synth.spec import SynthSpec

log = logging.getLogger(__name__)

NEAR_M = 0.05  # near clipping plane

# Skin tones (BGR) from light to dark, and plain clothing colours.
SKIN = [(190, 205, 235), (160, 185, 225), (130, 160, 205), (95, 125, 175), (70, 95, 140), (50, 65, 100)]
HAIR = [(30, 30, 35), (40, 55, 80), (60, 90, 130), (110, 160, 200), (140, 140, 150)]
CLOTH = [(200, 90, 40), (40, 40, 180), (60, 140, 60), (50, 50, 50), (220, 220, 220), (40, 120, 200),
         (120, 60, 120), (160, 160, 40), (90, 90, 140), (30, 30, 90)]
SHOES = [(240, 240, 240), (40, 40, 40), (60, 60, 200), (200, 120, 40), (120, 120, 120)]
WALLS = [(200, 210, 215), (170, 190, 200), (210, 200, 190), (150, 160, 150), (120, 130, 140), (225, 225, 225)]
FLOORS = [(90, 120, 150), (70, 90, 110), (150, 160, 165), (60, 75, 95), (120, 140, 150)]


@dataclass(frozen=True)
class Appearance:
    """How the person, the room and the camera look. `random_appearance(seed)` varies all
    of it; the defaults are a plain, well-lit room."""

    skin: tuple[int, int, int] = SKIN[1]
    hair: tuple[int, int, int] = HAIR[0]
    shirt: tuple[int, int, int] = CLOTH[0]
    shorts: tuple[int, int, int] = CLOTH[3]
    shoes: tuple[int, int, int] = SHOES[0]
    long_sleeves: bool = False
    long_trousers: bool = False
    wall: tuple[int, int, int] = WALLS[0]
    floor: tuple[int, int, int] = FLOORS[0]
    light_dir: tuple[float, float, float] = (-0.4, 0.8, 0.45)  # toward the light, scene frame
    brightness: float = 1.0  # overall exposure
    ambient: float = 0.45
    clutter: int = 3  # background objects (door, frames, shelf...)
    noise_sigma: float = 2.0  # sensor noise, grey levels
    blur: float = 0.6  # lens/motion softness, gaussian sigma in pixels
    jpeg_quality: int | None = None  # extra JPEG round-trip per frame (None = only the video codec)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def random_appearance(seed: int, variation: float = 1.0) -> Appearance:
    """A seeded person, room and camera look."""
    if variation <= 0:
        return Appearance(seed=seed)
    rng = np.random.default_rng([seed, 4099])

    def pick(options: list) -> Any:
        return options[int(rng.integers(len(options)))]

    shirt = pick(CLOTH)
    shorts = pick([c for c in CLOTH if c != shirt])
    wall = pick(WALLS)
    az = rng.uniform(-1.0, 1.0)
    return Appearance(
        skin=pick(SKIN), hair=pick(HAIR), shirt=shirt, shorts=shorts, shoes=pick(SHOES),
        long_sleeves=bool(rng.uniform() < 0.3), long_trousers=bool(rng.uniform() < 0.3),
        wall=wall, floor=pick(FLOORS), light_dir=(float(az), 0.8, float(rng.uniform(0.2, 0.7))),
        brightness=float(rng.uniform(0.8, 1.1)), ambient=float(rng.uniform(0.35, 0.55)),
        clutter=int(rng.integers(0, 5)), noise_sigma=float(rng.uniform(1.0, 4.0)),
        blur=float(rng.uniform(0.3, 1.0)),
        jpeg_quality=None if rng.uniform() < 0.6 else int(rng.integers(55, 90)), seed=seed)


# ----------------------------------------------------------------------------- drawing


@dataclass
class _Cap:
    a: np.ndarray  # (T,3)
    b: np.ndarray  # (T,3)
    ra: float
    rb: float
    colour: tuple[int, int, int]


@dataclass
class _Ell:
    centre: np.ndarray  # (T,3)
    axes: np.ndarray  # (T,3,3) rows = semi-axes as scene vectors
    colour: tuple[int, int, int]


@dataclass
class _Group:
    """Primitives drawn together in list order (an arm and its sleeve, hair then head...),
    placed in the back-to-front order by the camera depth of `anchor` (+ bias metres)."""

    anchor: np.ndarray  # (T,3)
    prims: list
    bias: float = 0.0
    face: bool = False


def _tone(colour: tuple[int, int, int], k: float) -> tuple[int, int, int]:
    return (min(255, int(colour[0] * k)), min(255, int(colour[1] * k)), min(255, int(colour[2] * k)))


SHIFT = 4  # fixed-point bits for sub-pixel drawing
ONE = 1 << SHIFT
BANDS = ((1.0, 0.58), (0.72, 0.8), (0.42, 1.0))  # (size, brightness) dark outline to highlight


class Renderer:
    """Draws the frames of one clip (fixed camera). The whole body rig is built and
    projected for every frame at once; drawing a frame is then a short loop of OpenCV fills."""

    def __init__(self, clip: SynthClip, appearance: Appearance):
        self.clip, self.app, self.cam = clip, appearance, clip.camera
        self.body = clip.body
        self.light = unit(np.asarray(appearance.light_dir, float)[None])[0]
        lc = self.cam.rot @ self.light  # camera frame (x right, y down, z forward)
        l2 = np.array([lc[0], lc[1]])
        self.light2d = l2 / (np.linalg.norm(l2) + 1e-9)
        self.bands = tuple((k, v * appearance.brightness) for k, v in BANDS)
        self.rng = np.random.default_rng([appearance.seed, 31])
        self.background = self._background()
        self._noise = self._noise_bank(8)
        self.groups = self._rig()
        self._project()

    # -- projection helpers
    def _p(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.cam.to_camera(pts)
        z = np.maximum(c[..., 2], NEAR_M)
        xy = np.stack([self.cam.focal_px * c[..., 0] / z + self.cam.width / 2,
                       self.cam.focal_px * c[..., 1] / z + self.cam.height / 2], -1)
        return xy, z

    def _fill_poly(self, img: np.ndarray, pts: np.ndarray, colour: tuple[int, int, int]) -> None:
        p = np.round(pts * ONE).astype(np.int32)
        cv2.fillPoly(img, [p], colour, cv2.LINE_AA, SHIFT)

    def _clip_poly(self, poly3: np.ndarray) -> np.ndarray | None:
        """Clip a 3D polygon to the near plane; returns image points or None."""
        c = self.cam.to_camera(poly3)
        out = []
        n = len(c)
        for i in range(n):
            a, b = c[i], c[(i + 1) % n]
            ina, inb = a[2] > NEAR_M, b[2] > NEAR_M
            if ina:
                out.append(a)
            if ina != inb:
                t = (NEAR_M - a[2]) / (b[2] - a[2])
                out.append(a + (b - a) * t)
        if len(out) < 3:
            return None
        c = np.array(out)
        return np.stack([self.cam.focal_px * c[:, 0] / c[:, 2] + self.cam.width / 2,
                         self.cam.focal_px * c[:, 1] / c[:, 2] + self.cam.height / 2], -1)

    def _quad(self, img: np.ndarray, corners: np.ndarray, colour: tuple[int, int, int],
              shade: float = 1.0) -> None:
        pts = self._clip_poly(corners)
        if pts is not None:
            self._fill_poly(img, pts, _tone(colour, shade * self.app.brightness))

    def _noise_bank(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Sensor noise fields, made once and cycled (fresh gaussian noise for every frame
        costs more than drawing the person), kept as positive and negative parts so they
        apply with saturating uint8 adds."""
        sigma = self.app.noise_sigma
        if sigma <= 0:
            return []
        h, w = self.cam.height, self.cam.width
        out = []
        for _ in range(n):
            g = self.rng.normal(0, sigma, (h, w, 1)) + self.rng.normal(0, sigma * 0.4, (h, w, 3))
            g = np.clip(np.round(g), -255, 255)
            out.append((np.maximum(g, 0).astype(np.uint8), np.maximum(-g, 0).astype(np.uint8)))
        return out

    # -- static scene
    def _background(self) -> np.ndarray:
        """Room, floor and fixed props, drawn once: the camera never moves."""
        cam, app = self.cam, self.app
        img = np.zeros((cam.height, cam.width, 3), np.uint8)
        img[:] = _tone(app.wall, 0.9 * app.brightness)
        intent = self.clip.motion.intent
        h0 = np.radians(intent.heading[0])
        fwd = np.array([np.sin(h0), 0.0, np.cos(h0)])
        left = np.array([np.cos(h0), 0.0, -np.sin(h0)])
        base = np.array([intent.pelvis[0, 0], 0.0, intent.pelvis[0, 2]])
        # Back wall: behind the person as the camera sees it, 2.5 m beyond them.
        view = unit(np.array([self.cam.rot[2, 0], 0.0, self.cam.rot[2, 2]])[None])[0]
        side = np.array([view[2], 0.0, -view[0]])
        wall_c = base + view * 2.5
        big = 30.0
        up = np.array([0.0, 1.0, 0.0])
        floor = np.array([base + side * big - view * big, base + side * big + view * 2.5,
                          base - side * big + view * 2.5, base - side * big - view * big])
        self._quad(img, floor, app.floor, 0.95)
        wall = [wall_c + side * big, wall_c - side * big, wall_c - side * big + up * 5, wall_c + side * big + up * 5]
        self._quad(img, np.array(wall), app.wall, 0.9)
        sk = [wall_c + side * big, wall_c - side * big, wall_c - side * big + up * 0.1, wall_c + side * big + up * 0.1]
        self._quad(img, np.array(sk), app.wall, 0.6)
        rng = np.random.default_rng([app.seed, 17])
        for _ in range(app.clutter):
            x = rng.uniform(-3.0, 3.0)
            w, h = rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.2)
            y0 = rng.uniform(0.0, 1.4) if rng.uniform() < 0.6 else 0.0
            col = tuple(int(v) for v in rng.integers(40, 230, 3))
            p0 = wall_c - view * 0.01 + side * x + up * y0
            self._quad(img, np.array([p0, p0 + side * w, p0 + side * w + up * h, p0 + up * h]), col, 0.85)
        # Floor boards, so the floor is not a flat colour.
        for i in range(-12, 13):
            a = base + side * (i * 0.25) - view * 6
            b = base + side * (i * 0.25) + view * 2.5
            pts = self._clip_poly(np.array([a, b, b + side * 0.01, a + side * 0.01]))
            if pts is not None:
                self._fill_poly(img, pts, _tone(app.floor, 0.85 * app.brightness))
        props = self.clip.motion.props
        if "strap" in props:
            s = props["strap"]
            d = unit((s["end"] - s["start"])[None])[0]
            perp = np.array([d[2], 0.0, -d[0]]) * s["width_m"] / 2
            lift = np.array([0.0, 0.003, 0.0])
            self._quad(img, np.array([s["start"] - perp, s["end"] - perp, s["end"] + perp, s["start"] + perp])
                       + lift, (30, 200, 240), 1.0)
        if "wall" in props:
            w = props["wall"]
            n = w["normal"]
            along = np.array([n[2], 0.0, -n[0]])
            p = w["point"]
            quad = np.array([p + along * 3, p - along * 3, p - along * 3 + up * 3, p + along * 3 + up * 3])
            self._quad(img, quad, (235, 235, 235), 0.92)
        if "chair" in props:
            self._chair(img, props["chair"], left, fwd)
        return img

    def _chair(self, img: np.ndarray, ch: dict, left: np.ndarray, fwd: np.ndarray) -> None:
        c = np.asarray(ch["seat_centre"], float)
        w, d = ch["seat_size"]
        up = np.array([0.0, 1.0, 0.0])
        wood = (60, 90, 130)
        seat = np.array([c - left * w / 2 - fwd * d / 2, c + left * w / 2 - fwd * d / 2,
                         c + left * w / 2 + fwd * d / 2, c - left * w / 2 + fwd * d / 2])
        top = up * ch["back_height"]
        self._quad(img, np.array([seat[0], seat[1], seat[1] + top, seat[0] + top]), wood, 0.7)
        for corner in seat:
            (pa, pb), (za, _) = self._p(np.stack([corner - up * c[1], corner]))
            cv2.line(img, _pt(pa), _pt(pb), _tone(wood, 0.8), max(1, int(0.035 * self.cam.focal_px / za)),
                     cv2.LINE_AA, SHIFT)
        self._quad(img, seat, wood, 0.95)
        self._quad(img, np.array([seat[2], seat[3], seat[3] - up * 0.04, seat[2] - up * 0.04]), wood, 0.6)

    # -- the body rig, for all frames at once
    def _rig(self) -> list[_Group]:
        sk, b, app = self.clip.skeleton, self.body, self.app
        lm = sk.landmarks
        T = len(lm)
        k = b.height / 1.75
        skin, shirt, shorts, shoes = app.skin, app.shirt, app.shorts, app.shoes
        r_p, r_t, r_h = sk.pelvis_rot, sk.trunk_rot, sk.head_rot

        def rot_axes(r: np.ndarray, radii: np.ndarray) -> np.ndarray:
            # rows = semi-axes in the scene: columns of r scaled by the radii
            return np.transpose(r * np.asarray(radii)[None, None, :], (0, 2, 1))

        def pt(r: np.ndarray, origin: np.ndarray, offset: list[float]) -> np.ndarray:
            return origin + apply(r, np.asarray(offset, float))

        groups: list[_Group] = []
        hip_mid = (lm[:, LM.LEFT_HIP] + lm[:, LM.RIGHT_HIP]) / 2
        sh_mid = (lm[:, LM.LEFT_SHOULDER] + lm[:, LM.RIGHT_SHOULDER]) / 2
        pelvis_c = pt(r_p, hip_mid, [0, 0.03 * k, -0.01 * k])
        # The abdomen bends at the lumbar spine: its lower half goes with the pelvis.
        belly_c = pt(r_p, hip_mid, [0, b.torso * 0.40, 0.0])
        chest_c = pt(r_t, sh_mid, [0, -0.13 * k, 0.0])
        # The shorts are built on the pelvis, so a pelvic drop tilts what the camera sees
        # as it would on a person: a hip block across the two hip joints with the buttocks'
        # and greater trochanters' volumes at either end, and the waistband at the iliac
        # crests (about 10 cm above the hip joints). The shirt hangs from the chest and
        # ends above the crests, leaving the waistband and the hips' outline in view.
        half = b.hip_w / 2
        g = b.build
        crest = [pt(r_p, hip_mid, [sgn * half * 0.92, 0.10 * k, -0.005 * k]) for sgn in (1.0, -1.0)]
        block = [pt(r_p, hip_mid, [sgn * half * 0.55, 0.035 * k, -0.012 * k]) for sgn in (1.0, -1.0)]
        hip_vol = [pt(r_p, hip_mid, [sgn * (half + 0.012 * k * g), 0.005 * k, -0.015 * k])
                   for sgn in (1.0, -1.0)]
        hip_axes = rot_axes(r_p, [0.062 * k * g, 0.088 * k, 0.085 * k * g])
        groups.append(_Group(pelvis_c, [
            _Cap(block[0], block[1], 0.098 * k * g, 0.098 * k * g, shorts),
            _Ell(hip_vol[0], hip_axes, shorts),
            _Ell(hip_vol[1], hip_axes, shorts),
            _Cap(crest[0], crest[1], 0.030 * k * g, 0.030 * k * g, _tone(shorts, 0.72))], 0.02))
        groups.append(_Group(belly_c, [
            _Ell(belly_c, rot_axes(r_p, [b.hip_w * 0.62, b.torso * 0.26, b.torso_half_depth * 1.15]), shirt),
            _Ell(chest_c, rot_axes(r_t, [b.shoulder_w * 0.56, 0.18 * k, b.torso_half_depth * 1.45]), shirt)],
            0.03))
        neck_top = pt(r_h, sk.neck_base, [0, 0.06 * k, 0.0])
        groups.append(_Group(sh_mid, [_Cap(sh_mid, neck_top, 0.05 * k, 0.046 * k, skin)], 0.05))
        radii = np.array(HEAD_RADII) * b.head_scale
        hair_c = pt(r_h, sk.head_centre, [0.0, 0.022 * k, -0.018 * k])
        groups.append(_Group(sk.head_centre, [
            _Ell(hair_c, rot_axes(r_h, radii * np.array([1.06, 1.0, 1.05])), app.hair),
            _Ell(sk.head_centre, rot_axes(r_h, radii), skin)], 0.0, face=True))
        for s in ("LEFT", "RIGHT"):
            sh_, el, wr = lm[:, LM[f"{s}_SHOULDER"]], lm[:, LM[f"{s}_ELBOW"]], lm[:, LM[f"{s}_WRIST"]]
            sleeve_end = el if app.long_sleeves else sh_ + (el - sh_) * 0.5
            ball = rot_axes(r_t, [b.upper_arm_r * 1.45] * 3)
            groups.append(_Group((sh_ + el) / 2, [
                _Cap(sh_, el, b.upper_arm_r * 1.1, b.upper_arm_r * 0.9, skin),
                _Cap(sh_, sleeve_end, b.upper_arm_r * 1.25, b.upper_arm_r * 1.05, shirt),
                _Ell(sh_, ball, shirt)]))
            idx, pk, th = lm[:, LM[f"{s}_INDEX"]], lm[:, LM[f"{s}_PINKY"]], lm[:, LM[f"{s}_THUMB"]]
            kn = (idx + pk) / 2
            d = kn - wr
            across = idx - pk
            n = unit(np.cross(d, across)) * 0.016 * k
            hand = np.stack([d * 0.62, across * 0.6, n], 1)
            groups.append(_Group((el + wr) / 2, [
                _Cap(el, wr, b.forearm_r * 1.05, b.forearm_r * 0.8, shirt if app.long_sleeves else skin),
                _Ell(wr + d * 0.55, hand, skin),
                _Cap(wr + (th - wr) * 0.3, th, 0.011 * k, 0.009 * k, skin)]))
            hip, knee, ank = lm[:, LM[f"{s}_HIP"]], lm[:, LM[f"{s}_KNEE"]], lm[:, LM[f"{s}_ANKLE"]]
            heel, toe = sk.soles[s.lower()]
            leg_col = shorts if app.long_trousers else skin
            shorts_end = knee if app.long_trousers else hip + (knee - hip) * 0.55
            groups.append(_Group((hip + knee) / 2, [
                _Cap(hip, knee, b.thigh_r, b.shank_r * 1.15, leg_col),
                _Cap(hip, shorts_end, b.thigh_r * 1.08, b.thigh_r * 0.98, shorts)]))
            groups.append(_Group((knee + ank) / 2, [
                _Cap(knee, ank, b.shank_r * 1.1, b.shank_r * 0.62, leg_col)]))
            # Shoe: upper from heel to toe over a darker sole, and the ankle collar.
            up_f = apply(sk.foot_rot[s.lower()], np.array([0.0, 1.0, 0.0]))
            along = toe - heel
            heel_c = heel + up_f * 0.032 * k - along * 0.02
            toe_c = toe + up_f * 0.022 * k - along * 0.12
            groups.append(_Group((heel + toe) / 2, [
                _Cap(heel + up_f * 0.012 * k, toe + up_f * 0.01 * k - along * 0.06, 0.014 * k, 0.013 * k,
                     _tone(shoes, 0.7)),
                _Cap(heel_c, toe_c, 0.040 * k, 0.034 * k, shoes),
                _Cap(ank - up_f * 0.01, heel_c + (toe_c - heel_c) * 0.25, 0.036 * k, 0.04 * k, shoes)],
                -0.01))
        props = self.clip.motion.props
        if "roller" in props:
            r = props["roller"]
            a = np.tile(r["centre"] - r["axis"] * r["length"] / 2, (T, 1))
            bb = np.tile(r["centre"] + r["axis"] * r["length"] / 2, (T, 1))
            # Under the calf: drawn before the leg that lies on it.
            groups.append(_Group(np.tile(r["centre"], (T, 1)),
                                 [_Cap(a, bb, r["radius"], r["radius"], (40, 160, 230))], 0.3))
        return groups

    def _project(self) -> None:
        """Image geometry of every primitive in every frame."""
        f = self.cam.focal_px
        for g in self.groups:
            _, g.depth = self._p(g.anchor)  # type: ignore[attr-defined]
            g.depth = g.depth + g.bias  # type: ignore[attr-defined]
            for p in g.prims:
                if isinstance(p, _Cap):
                    xy, z = self._p(np.stack([p.a, p.b], 1))
                    p.pa, p.pb = xy[:, 0], xy[:, 1]
                    p.rpa, p.rpb = p.ra * f / z[:, 0], p.rb * f / z[:, 1]
                else:
                    c = self.cam.to_camera(p.centre)
                    z = np.maximum(c[:, 2], NEAR_M)
                    jac = np.zeros((len(z), 2, 3))
                    jac[:, 0, 0] = jac[:, 1, 1] = f / z
                    jac[:, 0, 2] = -f * c[:, 0] / z ** 2
                    jac[:, 1, 2] = -f * c[:, 1] / z ** 2
                    a_cam = p.axes @ self.cam.rot.T  # (T,3,3) rows in camera frame
                    m = jac @ np.transpose(a_cam, (0, 2, 1))  # (T,2,3)
                    w, v = np.linalg.eigh(m @ np.transpose(m, (0, 2, 1)))
                    w = np.sqrt(np.maximum(w, 1e-6))
                    p.c2 = np.stack([f * c[:, 0] / z + self.cam.width / 2, f * c[:, 1] / z + self.cam.height / 2], -1)
                    p.ax = w[:, ::-1]  # (major, minor)
                    p.ang = np.degrees(np.arctan2(v[:, 1, 1], v[:, 0, 1]))
                    p.ok = c[:, 2] > NEAR_M

    def _draw_cap(self, img: np.ndarray, p: _Cap, i: int) -> None:
        ax, ay = p.pa[i]
        bx, by = p.pb[i]
        ra, rb = float(p.rpa[i]), float(p.rpb[i])
        dx, dy = bx - ax, by - ay
        n = (dx * dx + dy * dy) ** 0.5
        nx, ny = (-dy / n, dx / n) if n > 1e-6 else (0.0, 0.0)
        lx, ly = self.light2d
        for k, level in self.bands:
            col = _tone(p.colour, level)
            o = (1 - k) * 0.8
            cax, cay = ax + lx * o * ra, ay + ly * o * ra
            cbx, cby = bx + lx * o * rb, by + ly * o * rb
            r1, r2 = max(ra * k, 0.4), max(rb * k, 0.4)
            quad = np.array([[cax + nx * r1, cay + ny * r1], [cbx + nx * r2, cby + ny * r2],
                             [cbx - nx * r2, cby - ny * r2], [cax - nx * r1, cay - ny * r1]]) * ONE
            cv2.fillConvexPoly(img, quad.astype(np.int32), col, cv2.LINE_AA, SHIFT)
            cv2.circle(img, (int(cax * ONE), int(cay * ONE)), int(r1 * ONE), col, -1, cv2.LINE_AA, SHIFT)
            cv2.circle(img, (int(cbx * ONE), int(cby * ONE)), int(r2 * ONE), col, -1, cv2.LINE_AA, SHIFT)

    def _draw_ell(self, img: np.ndarray, p: _Ell, i: int) -> None:
        if not p.ok[i]:
            return
        cx, cy = p.c2[i]
        a1, a2 = float(p.ax[i, 0]), float(p.ax[i, 1])
        ang = float(p.ang[i])
        lx, ly = self.light2d
        for k, level in self.bands:
            o = (1 - k) * 0.8 * a2
            c = (int((cx + lx * o) * ONE), int((cy + ly * o) * ONE))
            axes = (max(1, int(a1 * k * ONE)), max(1, int(a2 * k * ONE)))
            cv2.ellipse(img, c, axes, ang, 0, 360, _tone(p.colour, level), -1, cv2.LINE_AA, SHIFT)

    def _face(self, img: np.ndarray, i: int) -> None:
        sk = self.clip.skeleton
        lm = sk.landmarks[i]
        r_h = sk.head_rot[i]
        k = self.body.height / 1.75
        to_cam = unit((self.cam.position - sk.head_centre[i])[None])[0]
        f = self.cam.focal_px
        for s, sign in (("LEFT", 1.0), ("RIGHT", -1.0)):
            eye_n = r_h @ unit(np.array([[sign * 0.45, 0.05, 0.9]]))[0]
            if eye_n @ to_cam < 0.1:
                continue
            (p,), (z,) = self._p(lm[LM[f"{s}_EYE"]][None])
            rr = max(0.011 * k * f / z, 0.8)
            vis = float(np.clip((eye_n @ to_cam - 0.1) / 0.4, 0.3, 1.0))
            cv2.ellipse(img, _pt(p), (_l(rr * 1.3 * vis), _l(rr * 0.8)), 0, 0, 360, (235, 235, 235), -1,
                        cv2.LINE_AA, SHIFT)
            cv2.circle(img, _pt(p), _l(rr * 0.6), (40, 30, 30), -1, cv2.LINE_AA, SHIFT)
            brow0, brow1 = self._p(np.stack([
                lm[LM[f"{s}_EYE_INNER"]] + r_h @ np.array([0, 0.018 * k, 0.005]),
                lm[LM[f"{s}_EYE_OUTER"]] + r_h @ np.array([0, 0.02 * k, 0.0])]))[0]
            cv2.line(img, _pt(brow0), _pt(brow1), _tone(self.app.hair, 0.8), max(1, int(rr * 0.5)),
                     cv2.LINE_AA, SHIFT)
            ear_n = r_h @ np.array([sign, 0.0, -0.1])
            if ear_n @ to_cam > 0.2:
                (pe,), (ze,) = self._p(lm[LM[f"{s}_EAR"]][None])
                re = 0.02 * k * f / ze
                cv2.ellipse(img, _pt(pe), (_l(re * 0.6), _l(re)), 0, 0, 360, _tone(self.app.skin, 0.8), -1,
                            cv2.LINE_AA, SHIFT)
        face_n = r_h @ np.array([0.0, 0.0, 1.0])
        if face_n @ to_cam > -0.2:
            nose = lm[LM.NOSE]
            (pn, pb), (zn, _) = self._p(np.stack([nose, nose - r_h @ np.array([0, 0.03 * k, 0.02 * k])]))
            cv2.line(img, _pt(pb), _pt(pn), _tone(self.app.skin, 0.7), max(1, int(0.012 * k * f / zn)),
                     cv2.LINE_AA, SHIFT)
            m0, m1 = self._p(np.stack([lm[LM.MOUTH_LEFT], lm[LM.MOUTH_RIGHT]]))[0]
            cv2.line(img, _pt(m0), _pt(m1), (60, 60, 150), max(1, int(0.008 * k * f / zn)),
                     cv2.LINE_AA, SHIFT)

    def frame(self, i: int) -> np.ndarray:
        img = self.background.copy()
        for g in sorted(self.groups, key=lambda g: -g.depth[i]):  # type: ignore[attr-defined]
            for p in g.prims:
                if isinstance(p, _Cap):
                    self._draw_cap(img, p, i)
                else:
                    self._draw_ell(img, p, i)
            if g.face:
                self._face(img, i)
        return self._camera_effects(img)

    def _camera_effects(self, img: np.ndarray) -> np.ndarray:
        app = self.app
        if app.blur > 0:
            img = cv2.GaussianBlur(img, (0, 0), app.blur)
        if self._noise:
            pos, neg = self._noise[int(self.rng.integers(len(self._noise)))]
            dy, dx = int(self.rng.integers(0, 8)), int(self.rng.integers(0, 8))
            pos = np.roll(pos, (dy, dx), (0, 1)) if dy or dx else pos
            neg = np.roll(neg, (dy, dx), (0, 1)) if dy or dx else neg
            img = cv2.subtract(cv2.add(img, pos), neg)
        if app.jpeg_quality:
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, app.jpeg_quality])
            if ok:
                img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        return img

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(len(self.clip.truth)):
            yield self.frame(i)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return (round(p[0] * ONE), round(p[1] * ONE))


def _l(v: float) -> int:
    return max(1, round(v * ONE))


# ----------------------------------------------------------------------------- output


@dataclass
class RenderResult:
    clip: SynthClip
    video: Path
    truth: Path
    codec: str
    seconds: float

    @property
    def fps_rendered(self) -> float:
        return len(self.clip.frames) / self.seconds if self.seconds > 0 else float("nan")


@functools.cache
def video_codec() -> str:
    """"avc1" (H.264: smaller files) when this OpenCV can encode it, else "mp4v". Probed once
    on a scratch file with the native stderr silenced: FFmpeg reports a failed encoder
    search straight to file descriptor 2."""
    with tempfile.TemporaryDirectory() as d, _quiet_stderr():
        w = cv2.VideoWriter(str(Path(d) / "probe.mp4"), cv2.VideoWriter_fourcc(*"avc1"), 30.0, (64, 64))
        ok = w.isOpened()
        w.release()
    return "avc1" if ok else "mp4v"


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (embedded interpreters): just probe
        saved = None
    try:
        if saved is not None:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
        yield
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
        cv2.utils.logging.setLogLevel(level)


def _writer(path: Path, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, str]:
    codec = video_codec()
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
    if not w.isOpened():
        raise InputError(f"Cannot write video to {path}: check the folder exists and is writable")
    return w, codec


def render_clip(spec: SynthSpec, out_path: str | Path, width: int = 640, height: int = 360,
                appearance: Appearance | None = None) -> RenderResult:
    """Render `spec` to `out_path` (.mp4) and write `<stem>.truth.json` beside it.

    width/height: the video's size (the camera keeps its field of view); appearance:
    None = a seeded random look from spec.seed (see random_appearance).
    """
    out = Path(out_path)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"Output must be an .mp4 file, not {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = replace(spec, width=width, height=height)
    clip = landmark_clip(spec)
    app = appearance if appearance is not None else random_appearance(spec.seed, spec.variation)
    t0 = time.perf_counter()
    renderer = Renderer(clip, app)
    writer, codec = _writer(out, spec.fps, (width, height))
    try:
        for img in renderer.frames():
            writer.write(img)
    finally:
        writer.release()
    seconds = time.perf_counter() - t0
    truth_path = out.with_name(out.stem + ".truth.json")
    data = clip.to_truth_json()
    data["appearance"] = app.to_dict()
    data["video"] = {"path": out.name, "codec": codec}
    write_json_atomic(data, truth_path)
    log.info("rendered %d frames in %.1f s (%.0f fps, %s)", len(clip.frames), seconds,
             len(clip.frames) / max(seconds, 1e-9), codec)
    return RenderResult(clip, out, truth_path, codec, seconds)


__all__ = ["Appearance", "RenderResult", "Renderer", "random_appearance", "render_clip"]
