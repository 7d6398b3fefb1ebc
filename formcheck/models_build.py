"""Build the MediaPipe Pose Landmarker `.task` bundles from weights published in package registries.

The Tasks API wants a `.task` file: a zip of `pose_detector.tflite` and
`pose_landmarks_detector.tflite`, stored uncompressed and aligned, each tflite carrying TFLite
metadata that says how to normalise the input image. The same weights are published without
that metadata:

- npm `@mediapipe/pose@0.5.1675469404`: `pose_landmark_{lite,full,heavy}.tflite`
- PyPI `mediapipe==0.10.14` (wheel): `mediapipe/modules/pose_detection/pose_detection.tflite`

This module fetches them with the ordinary clients (`npm pack`, `pip download`), checks their
sha256 against the pinned values below, writes the metadata flatbuffer directly with the schema
modules that `mediapipe` ships, and zips the bundle with fixed timestamps so that every build
gives the same bytes (models/README.md lists the sha256 of each bundle).

Run `python -m formcheck.models_build --help` or `formcheck models build`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import flatbuffers

from formcheck.errors import ModelError

log = logging.getLogger(__name__)

NPM_PACKAGE = "@mediapipe/pose"
NPM_VERSION = "0.5.1675469404"
WHEEL_PACKAGE = "mediapipe"
WHEEL_VERSION = "0.10.14"
# Any platform's wheel holds the same detector; pin one so `pip download` works from any Python.
WHEEL_PIP_ARGS = ("--platform", "manylinux2014_x86_64", "--python-version", "3.11",
                  "--implementation", "cp", "--abi", "cp311", "--only-binary=:all:")
DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"

VARIANTS = ("lite", "full", "heavy")

# sha256 of the source weights as published: a changed upstream file fails the build loudly
# instead of silently producing a different bundle.
SOURCE_SHA256 = {
    "pose_detection.tflite": "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    "pose_landmark_lite.tflite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "pose_landmark_heavy.tflite": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}

DETECTOR_NAME = "pose_detector.tflite"
LANDMARKER_NAME = "pose_landmarks_detector.tflite"

# Fixed zip entry timestamp (the zip format's epoch) so the bundle bytes never depend on the clock.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Data alignment inside the zip. The Tasks API needs 4; 16 also suits TFLite's buffers.
ZIP_ALIGN = 16
# zipalign's extra-field id for alignment padding (tools that do not know it skip it).
_ALIGN_EXTRA_ID = 0xD935

_METADATA_NAME = b"TFLITE_METADATA"
_METADATA_IDENTIFIER = b"M001"
_TFLITE_IDENTIFIER = b"TFL3"
# Normalisation options and image properties are both in the metadata schema's first version.
_MIN_PARSER_VERSION = "1.0.0"
_LICENSE = "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0."
_AUTHOR = "Google LLC (weights); metadata and bundle by formcheck"


@dataclass(frozen=True)
class TensorInfo:
    name: str
    description: str


@dataclass(frozen=True)
class ModelInfo:
    """What the metadata says about one tflite: its input normalisation and its outputs."""

    name: str
    description: str
    mean: float
    std: float
    input: TensorInfo
    outputs: tuple[TensorInfo, ...]


# The detector (SSD-style BlazePose detector) wants RGB in [-1, 1].
DETECTOR_INFO = ModelInfo(
    name="BlazePose detector",
    description="Finds people (a box plus hip-centre and scale keypoints) in a 224x224 RGB image.",
    mean=127.5, std=127.5,
    input=TensorInfo("image", "Input image, RGB, 224x224, normalised to [-1, 1]."),
    outputs=(TensorInfo("regressors", "Box and keypoint offsets for each of the 2254 anchors."),
             TensorInfo("classificators", "Person score (logit) for each anchor.")),
)


def landmarker_info(variant: str) -> ModelInfo:
    """The landmark model wants RGB in [0, 1]."""
    return ModelInfo(
        name=f"BlazePose GHUM 3D landmarks ({variant})",
        description="33 pose landmarks (plus 6 auxiliary), world landmarks, a pose presence score "
                    "and a segmentation mask from a 256x256 RGB crop around one person.",
        mean=0.0, std=255.0,
        input=TensorInfo("image", "Person crop, RGB, 256x256, normalised to [0, 1]."),
        outputs=(TensorInfo("landmarks", "39 landmarks x (x, y, z, visibility, presence) in crop pixels."),
                 TensorInfo("pose_flag", "Pose presence score (logit)."),
                 TensorInfo("segmentation", "Person segmentation logits, 256x256."),
                 TensorInfo("heatmap", "Landmark heatmaps used for refinement, 64x64x39."),
                 TensorInfo("world_landmarks", "39 landmarks x (x, y, z) in metres, hip-centred.")),
    )


# ---------------------------------------------------------------------------------------------
# Metadata


def _metadata_flatbuffer(info: ModelInfo, n_outputs: int) -> bytes:
    """Serialise a ModelMetadata flatbuffer (file identifier M001) for an image model."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    norm = md.NormalizationOptionsT()
    norm.mean = [float(info.mean)]
    norm.std = [float(info.std)]
    unit = md.ProcessUnitT()
    unit.optionsType = md.ProcessUnitOptions.NormalizationOptions
    unit.options = norm

    props = md.ImagePropertiesT()
    props.colorSpace = md.ColorSpaceType.RGB
    content = md.ContentT()
    content.contentPropertiesType = md.ContentProperties.ImageProperties
    content.contentProperties = props

    stats = md.StatsT()
    # The range a normalised 0..255 pixel lands in.
    stats.min = [(0.0 - info.mean) / info.std]
    stats.max = [(255.0 - info.mean) / info.std]

    image = md.TensorMetadataT()
    image.name = info.input.name
    image.description = info.input.description
    image.content = content
    image.processUnits = [unit]
    image.stats = stats

    outputs = []
    for i in range(n_outputs):
        out = md.TensorMetadataT()
        desc = info.outputs[i] if i < len(info.outputs) else TensorInfo(f"output_{i}", "")
        out.name, out.description = desc.name, desc.description
        feature = md.ContentT()
        feature.contentPropertiesType = md.ContentProperties.FeatureProperties
        feature.contentProperties = md.FeaturePropertiesT()
        out.content = feature
        outputs.append(out)

    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = outputs

    meta = md.ModelMetadataT()
    meta.name = info.name
    meta.description = info.description
    meta.author = _AUTHOR
    meta.license = _LICENSE
    meta.subgraphMetadata = [subgraph]
    meta.minParserVersion = _MIN_PARSER_VERSION

    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=_METADATA_IDENTIFIER)
    return bytes(builder.Output())


def _aligned_buffer_type():
    """A BufferT whose bytes are packed 16-byte aligned, as the TFLite converter lays them out."""
    from mediapipe.tasks.metadata import schema_py_generated as sc

    class AlignedBufferT(sc.BufferT):
        def Pack(self, builder):  # flatbuffers' naming
            data_off = None
            if self.data is not None:
                raw = bytes(self.data)
                builder.StartVector(1, len(raw), 16)
                builder.head -= len(raw)
                builder.Bytes[builder.head:builder.head + len(raw)] = raw
                data_off = builder.EndVector()
            sc.BufferStart(builder)
            if data_off is not None:
                sc.BufferAddData(builder, data_off)
            sc.BufferAddOffset(builder, self.offset)
            sc.BufferAddSize(builder, self.size)
            return sc.BufferEnd(builder)

    return AlignedBufferT


def add_metadata(tflite: bytes, info: ModelInfo) -> bytes:
    """Return the tflite model with `info` as its TFLITE_METADATA (replacing any there was)."""
    from mediapipe.tasks.metadata import schema_py_generated as sc

    if tflite[4:8] != _TFLITE_IDENTIFIER:
        raise ModelError("not a TFLite model (missing TFL3 identifier)")
    model = sc.ModelT.InitFromObj(sc.Model.GetRootAsModel(tflite, 0))
    n_outputs = len(model.subgraphs[0].outputs)
    blob = _metadata_flatbuffer(info, n_outputs)

    aligned = _aligned_buffer_type()
    buffers = []
    for old in model.buffers or []:
        new = aligned()
        new.data, new.offset, new.size = old.data, old.offset, old.size
        buffers.append(new)
    model.buffers = buffers

    entries = [m for m in (model.metadata or []) if m.name == _METADATA_NAME]
    if entries:
        # Reuse the existing metadata buffer (the detector ships a face detector's, copied over).
        target = buffers[entries[0].buffer]
    else:
        target = aligned()
        buffers.append(target)
        entry = sc.MetadataT()
        entry.name = _METADATA_NAME
        entry.buffer = len(buffers) - 1
        model.metadata = [*(model.metadata or []), entry]
    target.data, target.offset, target.size = blob, 0, 0

    builder = flatbuffers.Builder(len(tflite) + len(blob) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=_TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata(tflite: bytes):
    """The ModelMetadataT object stored in a tflite model, or None."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md
    from mediapipe.tasks.metadata import schema_py_generated as sc

    model = sc.Model.GetRootAsModel(tflite, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == _METADATA_NAME:
            blob = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
            if blob[4:8] != _METADATA_IDENTIFIER:
                return None
            return md.ModelMetadataT.InitFromObj(md.ModelMetadata.GetRootAsModelMetadata(blob, 0))
    return None


# ---------------------------------------------------------------------------------------------
# Bundle


def _align_extra(offset: int, name: bytes) -> bytes:
    """A zipalign-style extra field that puts the entry's data on a ZIP_ALIGN boundary."""
    fixed = 30 + len(name) + 6  # local header + name + extra header (id, size, alignment)
    pad = (-(offset + fixed)) % ZIP_ALIGN
    return struct.pack("<HHH", _ALIGN_EXTRA_ID, 2 + pad, ZIP_ALIGN) + b"\0" * pad


def write_bundle(members: Iterable[tuple[str, bytes]], out: io.BufferedIOBase | io.BytesIO) -> None:
    """Write a .task zip: entries stored (no compression), data aligned, fixed timestamps."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # unix, whatever the building machine
            info.external_attr = 0o644 << 16
            info.extra = _align_extra(zf.fp.tell(), name.encode())
            zf.writestr(info, data)


def bundle_bytes(detector: bytes, landmarker: bytes) -> bytes:
    buf = io.BytesIO()
    write_bundle([(DETECTOR_NAME, detector), (LANDMARKER_NAME, landmarker)], buf)
    return buf.getvalue()


def check_bundle(path: Path) -> list[str]:
    """Problems with a .task file's layout (empty list when it is well formed)."""
    problems = []
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
            names = zf.namelist()
            for want in (DETECTOR_NAME, LANDMARKER_NAME):
                if want not in names:
                    problems.append(f"{want} missing")
            for info in zf.infolist():
                if info.compress_type != zipfile.ZIP_STORED:
                    problems.append(f"{info.filename} is compressed")
                fh.seek(info.header_offset + 26)
                n_name, n_extra = struct.unpack("<HH", fh.read(4))
                start = info.header_offset + 30 + n_name + n_extra
                if start % 4:
                    problems.append(f"{info.filename} data not 4-byte aligned (offset {start})")
    except (OSError, zipfile.BadZipFile) as exc:
        problems.append(f"not a readable zip: {exc}")
    return problems


# ---------------------------------------------------------------------------------------------
# Sources


@dataclass(frozen=True)
class Sources:
    """Paths of the four source tflite files (heavy may be absent until asked for)."""

    files: dict[str, Path]

    def get(self, name: str) -> bytes:
        path = self.files.get(name)
        if path is None:
            raise ModelError(f"source weights {name} not found")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != SOURCE_SHA256[name]:
            raise ModelError(f"{path} has sha256 {digest[:12]}…, expected {SOURCE_SHA256[name][:12]}…: "
                             "the published weights changed; check the source package version")
        return data


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "formcheck" / "model-sources"


def _find(root: Path, name: str) -> Path | None:
    for path in sorted(root.rglob(name)):
        if path.is_file():
            return path
    return None


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    log.info("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, check=False, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError as exc:
        raise ModelError(f"cannot {what}: {cmd[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise ModelError(f"cannot {what}: {cmd[0]} timed out (no network?)") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"cannot {what} ({cmd[0]} failed: {last}); check the network "
                         "or pass --from DIR with the unpacked packages")


def fetch_npm(cache: Path) -> Path:
    """`npm pack` the landmark weights and unpack the tflite files; returns the folder."""
    dest = cache / f"npm-pose-{NPM_VERSION}"
    if all((dest / f"pose_landmark_{v}.tflite").is_file() for v in VARIANTS):
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    tgz = cache / f"mediapipe-pose-{NPM_VERSION}.tgz"
    if not tgz.is_file():
        npm = shutil.which("npm") or "npm"
        _run([npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"], cache,
             f"download {NPM_PACKAGE}@{NPM_VERSION} from npm")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            base = Path(member.name).name
            if base.startswith("pose_landmark_") and base.endswith(".tflite") and member.isfile():
                src = tar.extractfile(member)
                assert src is not None
                (dest / base).write_bytes(src.read())
    return dest


def fetch_wheel(cache: Path) -> Path:
    """`pip download` the 0.10.14 wheel and extract the detector; returns the folder."""
    dest = cache / f"wheel-mediapipe-{WHEEL_VERSION}"
    if (dest / "pose_detection.tflite").is_file():
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob(f"mediapipe-{WHEEL_VERSION}-*.whl"))
    if not wheels:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache),
              *WHEEL_PIP_ARGS, f"{WHEEL_PACKAGE}=={WHEEL_VERSION}"], cache,
             f"download {WHEEL_PACKAGE}=={WHEEL_VERSION} from PyPI")
        wheels = sorted(cache.glob(f"mediapipe-{WHEEL_VERSION}-*.whl"))
        if not wheels:
            raise ModelError(f"pip download left no {WHEEL_PACKAGE}-{WHEEL_VERSION} wheel in {cache}")
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as zf:
        (dest / "pose_detection.tflite").write_bytes(zf.read(DETECTOR_MEMBER))
    return dest


def gather_sources(variants: Iterable[str], from_dir: Path | None = None,
                   cache: Path | None = None) -> Sources:
    """Locate (or download) the source weights for `variants`.

    from_dir: a folder already holding the unpacked packages (searched recursively by file
    name), for offline rebuilds. Anything not found there is downloaded into `cache`.
    """
    names = ["pose_detection.tflite"] + [f"pose_landmark_{v}.tflite" for v in variants]
    files: dict[str, Path] = {}
    if from_dir is not None:
        for name in names:
            found = _find(Path(from_dir), name)
            if found is not None:
                files[name] = found
    missing = [n for n in names if n not in files]
    if missing:
        cache = cache or default_cache_dir()
        if "pose_detection.tflite" in missing:
            files["pose_detection.tflite"] = fetch_wheel(cache) / "pose_detection.tflite"
        if any(n.startswith("pose_landmark_") for n in missing):
            folder = fetch_npm(cache)
            for name in missing:
                if name.startswith("pose_landmark_"):
                    files[name] = folder / name
    return Sources(files)


# ---------------------------------------------------------------------------------------------
# Build


def bundle_name(variant: str) -> str:
    return f"pose_landmarker_{variant}.task"


def build_variant(variant: str, sources: Sources, out_dir: Path) -> Path:
    """Build pose_landmarker_<variant>.task into out_dir (written atomically); returns its path."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown model '{variant}': choose one of {', '.join(VARIANTS)}")
    detector = add_metadata(sources.get("pose_detection.tflite"), DETECTOR_INFO)
    landmarker = add_metadata(sources.get(f"pose_landmark_{variant}.tflite"), landmarker_info(variant))
    data = bundle_bytes(detector, landmarker)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / bundle_name(variant)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model is not a secret
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("wrote %s (%d bytes, sha256 %s)", out, len(data), hashlib.sha256(data).hexdigest())
    return out


def build(variants: Iterable[str], out_dir: Path, from_dir: Path | None = None,
          cache: Path | None = None) -> list[Path]:
    variants = list(variants)
    for v in variants:
        if v not in VARIANTS:
            raise ModelError(f"unknown model '{v}': choose one of {', '.join(VARIANTS)}")
    sources = gather_sources(variants, from_dir, cache)
    return [build_variant(v, sources, out_dir) for v in variants]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m formcheck.models_build",
                                     description="Build the pose_landmarker_*.task bundles.")
    parser.add_argument("variants", nargs="*", metavar="{lite,full,heavy}",
                        help="which bundles to build (default: lite full)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: the source tree's models/, else the user model folder)")
    parser.add_argument("--from", dest="from_dir", type=Path, default=None,
                        help="folder with the unpacked npm package and wheel (skips downloading)")
    parser.add_argument("--cache", type=Path, default=None, help="download cache folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        out = args.out
        if out is None:
            from formcheck.pose.models import repo_models_dir, user_models_dir

            out = repo_models_dir() if repo_models_dir().is_dir() else user_models_dir()
        for path in build(args.variants or ["lite", "full"], out, args.from_dir, args.cache):
            print(f"{sha256_file(path)}  {path}")
    except ModelError as exc:
        print(f"formcheck: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
