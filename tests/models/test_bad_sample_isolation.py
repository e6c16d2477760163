"""One bad sample must not fail the others, for every adapter, through the real Evaluator.

Each test writes a toy task folder whose rows point at media files: good ones, and bad ones of
the adapter's modality (a WAV with no samples at the model's rate, a truncated or degenerate PNG,
a zero-frame or corrupt video). It runs the task without the bad rows (batch size 1), then with
them at batch size 1 and 3 (the bad sample shares a batch with good ones), through
:class:`~lmms_eval.engine.evaluator.Evaluator`, so decode-ahead and the engine's one-by-one retry
of a failed batch run for real. The good samples' outputs must equal the clean run's; each bad
sample must be an error record. Bad rows carry a long prompt, so the cost-sorted schedule runs
them first and every good sample comes after them (the samples a leaked state would break).
Models: the offline demo engines (PocketSphinx, RapidOCR), the tiny random checkpoints of
``tiny_vision``/``tiny_audio`` (greedy decoding, so outputs are deterministic), a local fake
OpenAI-compatible server, and a stand-in vLLM engine.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import lmms_eval
from lmms_eval.api.model import Model
from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.run_config import RunConfig

DEMO = Path(lmms_eval.__file__).parent / "tasks" / "demo" / "data"
GOOD_PROMPT = "What is it?"
BAD_PROMPT = "Describe it. " * 70  # the costliest request: scheduled before every good one
COLUMNS = {"audio": "doc_to_audio", "image": "doc_to_visual", "video": "doc_to_video"}
Records = dict[str, tuple[str, str | None]]


# ---- bad media --------------------------------------------------------------------------------


def write_bad_media(folder: Path) -> dict[str, str]:
    """The bad files of every modality; returns {kind: path}."""
    import soundfile as sf
    from PIL import Image as PILImage

    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "empty_wav": folder / "empty.wav",  # a valid header, zero samples
        "sub_sample_wav": folder / "one_frame_48k.wav",  # one frame at 48 kHz: zero samples at 16 kHz
        "truncated_png": folder / "truncated.png",
        "thin_png": folder / "thin.png",  # decodes, but 1x3000 px is beyond what detectors/processors take
        "zero_frame_mp4": folder / "zero_frames.mp4",
        "corrupt_mp4": folder / "corrupt.mp4",
    }
    sf.write(out["empty_wav"], np.zeros(0, np.int16), 16000, subtype="PCM_16")
    sf.write(out["sub_sample_wav"], np.full(1, 0.1, np.float32), 48000, subtype="PCM_16")
    buf = io.BytesIO()
    PILImage.new("RGB", (40, 30), (200, 10, 10)).save(buf, "PNG")
    out["truncated_png"].write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    PILImage.new("RGB", (1, 3000), (255, 255, 255)).save(out["thin_png"])
    _zero_frame_mp4(out["zero_frame_mp4"])
    out["corrupt_mp4"].write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not a video" * 40)
    return {k: str(v) for k, v in out.items()}


def _zero_frame_mp4(path: Path) -> None:
    """An MP4 container with a video stream header and no frames (OpenCV's writer, released at once)."""
    cv2 = pytest.importorskip("cv2")
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 4.0, (32, 32)).release()


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return write_bad_media(tmp_path_factory.mktemp("bad_media"))


# ---- the toy task and the run ----------------------------------------------------------------


def write_task(root: Path, name: str, kind: str, rows: list[tuple[str, str]], bad_first: bool = True) -> None:
    """A task ``name`` whose documents are ``(doc id, media path)``; with ``bad_first`` ids starting
    ``bad`` get the long prompt (the schedule runs them first)."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    with open(root / "data" / f"{name}.jsonl", "w", encoding="utf-8") as fh:
        for doc_id, media in rows:
            prompt = BAD_PROMPT if bad_first and doc_id.startswith("bad") else GOOD_PROMPT
            fh.write(json.dumps({"id": doc_id, "media": media, "question": prompt, "answer": "x"}) + "\n")
    (root / f"{name}.yaml").write_text(
        f"task: {name}\ndataset_path: json\ndataset_kwargs: {{data_files: data/{name}.jsonl}}\ntest_split: train\n"
        f"doc_id_column: id\n{COLUMNS[kind]}: media\ndoc_to_text: '{{{{question}}}}'\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\ngeneration_kwargs: {max_new_tokens: 4}\n",
        encoding="utf-8",
    )


def run(model: Model[Any], root: Path, tasks: list[str], batch_size: int, out: Path) -> Records:
    """Run ``tasks`` through the Evaluator; {doc id: (raw output, error)} from the sample logs."""
    cfg = RunConfig(
        model=model.name,
        tasks=tasks,
        include_path=[str(root)],
        output_path=str(out),
        batch_size=batch_size,
        show_progress=False,
        predict_only=True,
        decode_workers=2,
    )
    model.close = lambda: None  # type: ignore[method-assign]  # one loaded model serves every run
    try:
        outcome = Evaluator(cfg, model=model).run()
    finally:
        del model.close
    records: Records = {}
    for log in Path(outcome.run_dir).glob("samples_*.jsonl"):
        for line in log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            records[str(row["doc_id"])] = (row["raw_output"], row["error"])
    return records


def check_isolation(
    model: Model[Any],
    tmp_path: Path,
    kind: str,
    good: list[str],
    bad_files: list[str],
    extra_task: tuple[str, str] | None = None,
    bad_first: bool = True,
) -> Records:
    """The good samples' outputs with the bad ones among them (batch 1 and 3) equal a run without
    them, and each bad sample is an error record. Returns the last run's records."""
    root = tmp_path / "tasks"
    good_rows = [(f"good{i}", path) for i, path in enumerate(good)]
    bad_rows = [(f"bad{i}", path) for i, path in enumerate(bad_files)]
    write_task(root, "clean", kind, good_rows)
    # bad rows first in the file too: equal costs keep file order
    write_task(root, "dirty", kind, bad_rows + good_rows, bad_first)
    tasks = ["clean"] + ([extra_task[0]] if extra_task else [])
    clean = run(model, root, tasks, 1, tmp_path / "clean")
    assert clean and all(err is None for _, err in clean.values()), clean
    dirty: Records = {}
    for batch_size in (1, 3):
        dirty = run(
            model, root, ["dirty"] + ([extra_task[1]] if extra_task else []), batch_size, tmp_path / f"b{batch_size}"
        )
        assert {k: dirty[k] for k in clean} == clean, f"batch_size={batch_size}: good outputs changed"
        for doc_id, _ in bad_rows:
            output, error = dirty[doc_id]
            assert error and not output, (batch_size, doc_id, dirty[doc_id])
    return dirty


# ---- offline demo engines ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The first second of three demo recordings (short, so PocketSphinx decodes them quickly)."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("speech")
    out = []
    for i in range(3):
        wave, rate = sf.read(DEMO / "asr" / f"demo-{i:04d}.flac", dtype="float32")
        sf.write(folder / f"speech{i}.wav", wave[:rate], rate)
        out.append(str(folder / f"speech{i}.wav"))
    return out


def demo_images(n: int = 4) -> list[str]:
    return [str(DEMO / "ocr" / f"ocr-{i:04d}.png") for i in range(n)]


def test_pocketsphinx_restarts_its_utterance_after_a_bad_sample(
    tmp_path: Path, bad: dict[str, str], speech: list[str]
) -> None:
    pytest.importorskip("pocketsphinx")
    from lmms_eval.models.pocketsphinx_asr import PocketSphinxASR

    dirty = check_isolation(PocketSphinxASR(), tmp_path, "audio", speech, [bad["empty_wav"], bad["sub_sample_wav"]])
    assert "no samples" in (dirty["bad1"][1] or "")


def test_rapidocr_keeps_reading_after_a_bad_image(tmp_path: Path, bad: dict[str, str]) -> None:
    pytest.importorskip("rapidocr")
    from lmms_eval.models.rapidocr_ocr import RapidOCRConfig, RapidOCRReader

    model = RapidOCRReader(RapidOCRConfig(threads=1))
    dirty = check_isolation(model, tmp_path, "image", demo_images(3), [bad["truncated_png"], bad["thin_png"]])
    assert "rapidocr" in (dirty["bad1"][1] or "")


def test_demo_routes_bad_audio_and_images_without_losing_neighbours(
    tmp_path: Path, bad: dict[str, str], speech: list[str]
) -> None:
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("rapidocr")
    from lmms_eval.models.demo import OfflineDemo, OfflineDemoConfig

    root = tmp_path / "tasks"
    write_task(root, "clean_img", "image", [(f"img{i}", p) for i, p in enumerate(demo_images(2))])
    rows = [("bad_img0", bad["truncated_png"]), ("bad_img1", bad["thin_png"])]
    write_task(root, "dirty_img", "image", rows + [(f"img{i}", p) for i, p in enumerate(demo_images(2))])
    dirty = check_isolation(
        OfflineDemo(OfflineDemoConfig(ocr_threads=1)),
        tmp_path,
        "audio",
        speech[:2],
        [bad["sub_sample_wav"]],
        extra_task=("clean_img", "dirty_img"),
    )
    assert dirty["bad_img0"][1] and dirty["bad_img1"][1] and not dirty["bad_img1"][0]


def test_pocketsphinx_replaces_a_decoder_left_inside_an_utterance(speech: list[str]) -> None:
    """A failure between start_utt and end_utt (what empty audio caused) must not leak into the
    next sample: the adapter swaps in a fresh decoder before reporting the error."""
    pytest.importorskip("pocketsphinx")
    from lmms_eval.api.messages import Audio
    from lmms_eval.media import load_audio
    from lmms_eval.models.pocketsphinx_asr import PocketSphinxASR

    model = PocketSphinxASR()
    wave = load_audio(Audio(path=speech[0]), 16000)[0]
    expected = model.transcribe(wave)
    real = model._decoder

    class FailsMidUtterance:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def process_raw(self, *args: Any, **kwargs: Any) -> None:
            raise IndexError("Out of bounds on buffer access (axis 0)")

    model._decoder = FailsMidUtterance()
    with pytest.raises(IndexError):
        model.transcribe(wave)
    assert model.transcribe(wave) == expected


# ---- Hugging Face adapters on tiny random checkpoints ------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Good media files: 4 images, 3 short videos, 4 audio clips (16 kHz WAV)."""
    import soundfile as sf
    import tiny_audio as ta
    import tiny_vision as tv

    folder = tmp_path_factory.mktemp("good_media")
    images = []
    for i, image in enumerate(tv.make_images(4, seed=3)):
        image.save(folder / f"img{i}.png")
        images.append(str(folder / f"img{i}.png"))
    audio = []
    for i in range(4):
        sf.write(folder / f"clip{i}.wav", ta.chirps(1.5, seed=i), 16000)
        audio.append(str(folder / f"clip{i}.wav"))
    videos = [tv.write_video(folder / f"v{i}.mp4", tv.make_frames(8, seed=i + 1)) for i in range(3)]
    return {"image": images, "audio": audio, "video": [v for v in videos if v]}


def hf_state(model: Any) -> tuple[Any, ...]:
    """What a failed batch could leave changed in a transformers adapter."""
    tokenizer = getattr(model, "tokenizer", None)
    return (
        getattr(tokenizer, "padding_side", None),
        model.model.training,
        model.model.generation_config.to_json_string(),
    )


def check_hf(model: Any, tmp_path: Path, kind: str, good: list[str], bad_files: list[str]) -> Records:
    before = hf_state(model)
    dirty = check_isolation(model, tmp_path, kind, good, bad_files)
    assert hf_state(model) == before
    return dirty


@pytest.fixture(scope="module")
def tiny_vision() -> Any:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import tiny_vision as tv

    return tv


@pytest.fixture(scope="module")
def tiny_audio() -> Any:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import tiny_audio as ta

    return ta


def test_qwen2_5_vl_image_the_processor_refuses_fails_alone(tiny_vision, media, bad, tmp_path: Path) -> None:
    from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL

    model = Qwen2_5_VL.from_args(f"pretrained={tiny_vision.tiny_qwen2_5_vl()}")
    dirty = check_hf(model, tmp_path, "image", media["image"], [bad["truncated_png"], bad["thin_png"]])
    assert "aspect ratio" in (dirty["bad1"][1] or "")  # raised inside the batched processor call


def test_llava_onevision_bad_image(tiny_vision, media, bad, tmp_path: Path) -> None:
    from lmms_eval.models.llava_onevision import LlavaOneVision

    model = LlavaOneVision.from_args(f"pretrained={tiny_vision.tiny_llava_onevision()}")
    check_hf(model, tmp_path, "image", media["image"], [bad["truncated_png"]])


def test_llava_vid_zero_frame_and_corrupt_videos(tiny_vision, media, bad, tmp_path: Path) -> None:
    from lmms_eval.models.llava_vid import LlavaVid

    if len(media["video"]) < 3:
        pytest.skip("no video writer (opencv) installed")
    model = LlavaVid.from_args(f"pretrained={tiny_vision.tiny_llava_onevision()},max_frames=4")
    check_hf(model, tmp_path, "video", media["video"], [bad["zero_frame_mp4"], bad["corrupt_mp4"]])


def test_hf_chat_audio_with_no_samples(tiny_vision, media, bad, tmp_path: Path) -> None:
    from lmms_eval.models.hf_chat import HFChat

    model = HFChat.from_args(f"pretrained={tiny_vision.tiny_qwen2_audio()}")
    dirty = check_hf(model, tmp_path, "audio", media["audio"], [bad["empty_wav"], bad["sub_sample_wav"]])
    assert "no samples at 16000 Hz" in (dirty["bad1"][1] or "")


@pytest.mark.parametrize("name", ["qwen2_audio", "aero", "whisper"])
def test_audio_adapters_refuse_audio_with_no_samples(name: str, tiny_audio, media, bad, tmp_path: Path) -> None:
    from lmms_eval.api.registry import MODELS

    path = {
        "qwen2_audio": tiny_audio.build_tiny_qwen2_audio,
        "aero": tiny_audio.build_aero_stand_in,
        "whisper": tiny_audio.build_tiny_whisper,
    }[name]()
    extra = ",language=english" if name == "whisper" else ""
    model = MODELS.get(name).from_args(f"device=cpu,pretrained={path}{extra}")
    dirty = check_hf(model, tmp_path, "audio", media["audio"], [bad["empty_wav"], bad["sub_sample_wav"]])
    assert "no samples at 16000 Hz" in (dirty["bad1"][1] or "")


# ---- served models -----------------------------------------------------------------------------


def test_openai_compat_request_the_server_refuses_fails_alone(media, bad, tmp_path: Path) -> None:
    """A truncated PNG is sent as its own bytes; the server refuses it (400, never retried)."""
    from servers import Fault, FaultServer

    from lmms_eval.models.openai_compat import OpenAICompat

    refused = base64.b64encode(Path(bad["truncated_png"]).read_bytes()).decode()

    class Server(FaultServer):
        """Answers with a digest of the request (so answers follow their requests); refuses the bad image."""

        def _next(self, body: dict[str, Any]) -> Fault:
            super()._next(body)
            text = json.dumps(body, sort_keys=True)
            if refused in text:
                return Fault.status(400)
            return Fault.reply("answer " + hashlib.sha256(text.encode()).hexdigest()[:12])

    server = Server().start()
    model = OpenAICompat.from_args({"model": "m", "base_url": server.base_url, "max_concurrency": 2, "max_retries": 1})
    try:
        dirty = check_isolation(
            model,
            tmp_path,
            "image",
            media["image"],
            [bad["truncated_png"]],
        )
        assert "400" in (dirty["bad0"][1] or "") and server.inflight == 0
    finally:
        model.close()
        server.stop()


class QueueingLLM:
    """A ``vllm.LLM`` stand-in that adds a batch's prompts one by one, then runs them; a prompt it
    cannot take (an image beyond aspect ratio 200) raises while adding and leaves the ones added
    before it queued, as vLLM versions that do not abort them do. Outputs echo the prompt's
    digest. ``stale`` counts calls that started with requests left over from an earlier call."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.queue: list[dict[str, Any]] = []
        self.stale = 0
        self.llm_engine = self

    def has_unfinished_requests(self) -> bool:
        return bool(self.queue)

    def step(self) -> list[Any]:
        return [self._output(self.queue.pop(0))]

    @staticmethod
    def _output(prompt: dict[str, Any]) -> Any:
        digest = hashlib.sha256(repr(prompt["prompt"]).encode()).hexdigest()[:12]
        images = prompt.get("multi_modal_data", {}).get("image", [])
        text = f"{digest}|{[im.size for im in images]}"
        return SimpleNamespace(prompt_token_ids=[0], outputs=[SimpleNamespace(text=text, token_ids=[1])])

    def generate(self, prompts: list[dict[str, Any]], params: Any, use_tqdm: bool = False) -> list[Any]:
        self.stale += bool(self.queue)
        for prompt in prompts:
            for image in prompt.get("multi_modal_data", {}).get("image", []):
                if max(image.size) / min(image.size) > 200:
                    raise ValueError("absolute aspect ratio must be smaller than 200")
            self.queue.append(prompt)
        done = [self._output(p) for p in self.queue]
        self.queue = []
        return done


def test_vllm_engine_keeps_no_request_of_a_failed_batch(tiny_vision, bad, tmp_path: Path, monkeypatch) -> None:
    from lmms_eval.models import vllm_engine as ve

    engines: list[QueueingLLM] = []
    monkeypatch.setattr(ve, "require_vllm", lambda: SimpleNamespace(__version__="stand-in"))
    monkeypatch.setattr(ve, "make_vllm_engine", lambda kwargs: engines.append(QueueingLLM(kwargs)) or engines[-1])
    model = ve.VLLM.from_args(f"pretrained={tiny_vision.tiny_qwen2_5_vl()}")
    # short prompts for the bad rows: the thin image is the cheapest, so it joins a batch after good ones
    check_isolation(model, tmp_path, "image", demo_images(4), [bad["truncated_png"], bad["thin_png"]], bad_first=False)
    assert engines[0].stale == 0 and not engines[0].queue


def echo_or_crash(kwargs: dict[str, Any]) -> Any:
    """A replica's stand-in engine: echoes prompts; a prompt ``crash`` kills its process."""

    class Engine:
        def generate(self, prompts: list[dict[str, Any]], params: Any, use_tqdm: bool = False) -> list[Any]:
            if any(p["prompt"] == "crash" for p in prompts):
                import os

                os._exit(3)
            return [SimpleNamespace(outputs=[SimpleNamespace(text=p["prompt"])]) for p in prompts]

    return Engine()


def test_vllm_replica_pool_restarts_a_replica_a_sample_killed() -> None:
    from lmms_eval.models.vllm_replicas import ReplicaPool

    pool = ReplicaPool(2, {}, [None, None], factory="test_bad_sample_isolation:echo_or_crash")
    try:
        with pytest.raises(RuntimeError, match="replica 0 died"):
            pool.generate([{"prompt": p} for p in ("crash", "b", "c", "d")], [{}] * 4)
        got = pool.generate([{"prompt": p} for p in ("e", "f", "g")], [{}] * 3)
        assert [g.text for g in got] == ["e", "f", "g"] and pool.alive == [True, True]
    finally:
        pool.close()
