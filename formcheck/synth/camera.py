"""A pinhole camera placed around the synthetic actor, and the projection of scene points
to the image and to MediaPipe-style world landmarks."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from formcheck.synth.kin import unit

# A laptop webcam sees about 60-70 degrees across; phones in video mode similar.
DEFAULT_HFOV_DEG = 62.0


@dataclass(frozen=True)
class CameraSpec:
    """Where the camera stands, relative to the person's starting position and heading.

    azimuth_deg: 0 = straight in front of the person, +90 = on the person's left side,
      -90 = on their right; None = from the view (front 0, side/oblique toward the working
      side). height_m: lens height above the floor (None = the drill's usual set-up).
    distance_m: None = as close as keeps the whole movement in frame with a margin.
    tilt_deg: extra downward pitch on top of aiming at the movement's centre. roll_deg:
    a slightly crooked phone. margin: share of the frame kept free around the person.
    """

    azimuth_deg: float | None = None
    height_m: float | None = None
    distance_m: float | None = None
    tilt_deg: float = 0.0
    roll_deg: float = 0.0
    hfov_deg: float = DEFAULT_HFOV_DEG
    margin: float = 0.08

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Camera:
    """Intrinsics and pose. `rot` rows are the camera's right, down and forward axes in the
    scene frame (y up), so camera coords = rot @ (p - position)."""

    position: np.ndarray
    rot: np.ndarray
    focal_px: float
    width: int
    height: int

    @classmethod
    def look_at(cls, position: np.ndarray, target: np.ndarray, width: int, height: int,
                hfov_deg: float = DEFAULT_HFOV_DEG, tilt_deg: float = 0.0,
                roll_deg: float = 0.0) -> Camera:
        fwd = unit(np.asarray(target, float) - np.asarray(position, float))
        if tilt_deg:
            right0 = unit(np.cross(fwd, [0.0, 1.0, 0.0]))
            a = np.radians(tilt_deg)
            down0 = np.cross(fwd, right0)
            fwd = unit(np.cos(a) * fwd + np.sin(a) * down0)
        right = unit(np.cross(fwd, [0.0, 1.0, 0.0]))
        down = np.cross(fwd, right)
        if roll_deg:
            a = np.radians(roll_deg)
            right, down = np.cos(a) * right + np.sin(a) * down, -np.sin(a) * right + np.cos(a) * down
        focal = (width / 2) / np.tan(np.radians(hfov_deg) / 2)
        return cls(np.asarray(position, float), np.stack([right, down, fwd]), float(focal), width, height)

    def to_camera(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, float) - self.position) @ self.rot.T

    def project(self, p: np.ndarray) -> np.ndarray:
        """Scene points (..., 3) -> pixels (..., 2)."""
        c = self.to_camera(p)
        z = np.maximum(c[..., 2], 1e-6)
        return np.stack([self.focal_px * c[..., 0] / z + self.width / 2,
                         self.focal_px * c[..., 1] / z + self.height / 2], -1)

    def image_landmarks(self, lm: np.ndarray) -> np.ndarray:
        """(T,33,3) scene -> (T,33,3) image landmarks: pixels x, y and MediaPipe's relative
        depth (camera depth minus the hip midpoint's, scaled like x)."""
        c = self.to_camera(lm)
        xy = self.project(lm)
        hip_z = (c[:, 23, 2] + c[:, 24, 2]) / 2
        z = (c[..., 2] - hip_z[:, None]) * self.focal_px / hip_z[:, None]
        return np.concatenate([xy, z[..., None]], -1)

    def world_landmarks(self, lm: np.ndarray) -> np.ndarray:
        """(T,33,3) scene -> MediaPipe world landmarks: metres about the hip midpoint,
        x toward image right, y down, z away from the camera."""
        hip = (lm[:, 23] + lm[:, 24]) / 2
        return (lm - hip[:, None]) @ self.rot.T

    def scaled(self, width: int, height: int) -> Camera:
        """The same view at another resolution (same horizontal field of view)."""
        k = width / self.width
        return Camera(self.position, self.rot, self.focal_px * k, width, height)

    def to_dict(self) -> dict:
        return {"position_m": [round(float(v), 4) for v in self.position],
                "rotation": [[round(float(v), 6) for v in row] for row in self.rot],
                "focal_px": round(self.focal_px, 3), "width": self.width, "height": self.height}


def place_camera(spec: CameraSpec, points: np.ndarray, heading_deg: float, origin: np.ndarray,
                 azimuth_deg: float, height_m: float, width: int, height: int) -> Camera:
    """Aim a camera at the bounding box of `points` (N,3) from azimuth/height, backing off
    until every point is inside the frame with `spec.margin` to spare."""
    a = np.radians(heading_deg + azimuth_deg)
    direction = np.array([np.sin(a), 0.0, np.cos(a)])  # from the person toward the camera
    lo, hi = points.min(0), points.max(0)
    centre = (lo + hi) / 2
    target = np.array([centre[0], centre[1], centre[2]])
    base = np.array([origin[0], 0.0, origin[2]])

    def make(dist: float) -> Camera:
        pos = base + direction * dist
        pos[1] = height_m
        tgt = target.copy()
        return Camera.look_at(pos, tgt, width, height, spec.hfov_deg, spec.tilt_deg, spec.roll_deg)

    if spec.distance_m is not None:
        return make(spec.distance_m)
    # Bisection on distance: the smallest one that frames everything.
    near, far = 0.5, 30.0
    m = spec.margin
    for _ in range(40):
        mid = (near + far) / 2
        cam = make(mid)
        c = cam.to_camera(points)
        px = cam.project(points)
        ok = (c[:, 2] > 0.2).all() and (
            (px[:, 0] >= m * width).all() and (px[:, 0] <= (1 - m) * width).all()
            and (px[:, 1] >= m * height).all() and (px[:, 1] <= (1 - m) * height).all())
        if ok:
            far = mid
        else:
            near = mid
    return make(far)
