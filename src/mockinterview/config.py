"""Configuration: one TOML file plus environment variables, validated by pydantic.

Precedence: command-line options > environment > config file > defaults. The config file is
``$MOCKINTERVIEW_CONFIG`` or ``~/.config/mockinterview/config.toml``. A wrong value is an error
naming the key and the file. The API key is never stored in the config object's dumps: it is read on
demand from OPENAI_API_KEY or from a key file that must not be readable by others (mode 0600).
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from mockinterview.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMConfig(_Strict):
    base_url: str | None = None  # OPENAI_BASE_URL; None means api.openai.com when a key is set
    model: str = "gpt-4o-mini"  # MOCKINTERVIEW_LLM_MODEL
    api_key_file: Path | None = None  # a file holding the key, mode 0600
    timeout_live_s: float = Field(default=20.0, gt=0)  # follow-ups: the candidate is waiting
    timeout_final_s: float = Field(default=90.0, gt=0)  # scoring and feedback: in the background
    max_retries: int = Field(default=2, ge=0, le=10)
    max_follow_ups: int = Field(default=2, ge=0, le=5)
    json_schema: bool = True  # try response_format=json_schema first


class AudioConfig(_Strict):
    input_device: str | None = None
    output_device: str | None = None
    play: bool = True  # play questions when an output device exists
    short_silence_s: float = Field(default=0.8, gt=0, le=10)
    long_silence_s: float = Field(default=2.5, gt=0, le=20)
    barge_in: bool = False
    # the interviewer's voice: auto = Piper when mockinterview[voice] is installed, else espeak-ng
    voice: Literal["auto", "piper", "espeak"] = "auto"


class STTConfig(_Strict):
    model: str | None = None  # None: the embedded tiny.en
    compute_type: str = "int8"
    cpu_threads: int = Field(default=0, ge=0)
    vocabulary: bool = True  # bias decoding and correct near misses toward the question's terms
    # score proposed corrections against the audio and keep those it supports (about 0.07 s per
    # second of speech with tiny.en; more with a larger model)
    verify: bool = True


class PrivacyConfig(_Strict):
    # sessions older than this many days are removed by `mockinterview prune` (None: keep all)
    keep_days: int | None = Field(default=None, ge=1, le=36500)


class TailorConfig(_Strict):
    """Interviews for a job (issue 19): the files `start` uses when no --job/--cv is given."""

    job: Path | None = None  # a job description: .txt, .md or .pdf
    cv: Path | None = None  # the candidate's CV: .txt, .md or .pdf
    generate: int = Field(default=3, ge=0, le=10)  # LLM engine: questions for uncovered terms
    save_bank: Path | None = None  # write generated questions there as a bank file


class Config(_Strict):
    recordings: Path | None = None
    rubrics: Path | None = None
    prompts: Path | None = None
    engine: Literal["auto", "offline", "llm"] = "auto"
    style: Literal["friendly", "neutral", "demanding"] = "neutral"
    llm: LLMConfig = Field(default_factory=LLMConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    stt: STTConfig = Field(default_factory=STTConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    tailor: TailorConfig = Field(default_factory=TailorConfig)

    source: str = Field(default="defaults", exclude=True)

    # ------------------------------------------------------------------ derived values

    def recordings_dir(self) -> Path:
        env = os.environ.get("MOCKINTERVIEW_RECORDINGS")
        if env:
            return Path(env).expanduser()
        if self.recordings:
            return self.recordings.expanduser()
        return Path.cwd() / "recordings"

    def api_key(self) -> SecretStr | None:
        """The key from OPENAI_API_KEY or the key file; never logged, never saved."""
        env = os.environ.get("OPENAI_API_KEY")
        if env:
            return SecretStr(env.strip())
        f = self.llm.api_key_file
        if f:
            f = f.expanduser()
            try:
                mode = f.stat().st_mode
            except OSError:
                raise ConfigError(f"{self.source}: llm.api_key_file: {f} not found") from None
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(f"{self.source}: llm.api_key_file: {f} is readable by others; "
                                  f"run chmod 600 {f}")
            key = f.read_text().strip()
            from mockinterview.store import register_secret

            register_secret(key)  # scrubbed from stored text like the environment's key
            return SecretStr(key)
        return None

    def llm_configured(self) -> bool:
        return bool(self.llm.base_url or self.api_key() or self.engine == "llm")

    def resolved_engine(self, explicit: str | None = None) -> str:
        choice = explicit or self.engine
        if choice == "auto":
            return "llm" if self.llm_configured() else "offline"
        return choice


def config_path() -> Path:
    env = os.environ.get("MOCKINTERVIEW_CONFIG")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "mockinterview" / "config.toml"


_ENV_KEYS = {
    "OPENAI_BASE_URL": ("llm", "base_url"),
    "MOCKINTERVIEW_LLM_MODEL": ("llm", "model"),
    "MOCKINTERVIEW_ENGINE": ("engine",),
    "MOCKINTERVIEW_STT_MODEL": ("stt", "model"),
    "MOCKINTERVIEW_RUBRICS": ("rubrics",),
    "MOCKINTERVIEW_PROMPTS": ("prompts",),
    "MOCKINTERVIEW_VOICE": ("audio", "voice"),
}


def load_config(path: Path | None = None) -> Config:
    """Read the TOML file (when it exists) and the environment; raise ConfigError on bad values."""
    p = path or config_path()
    data: dict = {}
    source = "defaults"
    if p.exists():
        source = str(p)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{p}: not valid TOML ({e})") from None
        except OSError as e:
            raise ConfigError(f"{p}: cannot read ({e.strerror})") from None
        if "api_key" in data.get("llm", {}):
            raise ConfigError(f"{p}: llm.api_key: keys do not belong in the config file; set "
                              "OPENAI_API_KEY or llm.api_key_file (mode 0600)")
    for env, keys in _ENV_KEYS.items():
        value = os.environ.get(env)
        if value:
            node = data
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            node[keys[-1]] = value
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(x) for x in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{source}: {key}: {msg}") from None
    cfg.source = source
    _register_secrets(cfg)
    return cfg


def _register_secrets(cfg: Config) -> None:
    """Every configured secret is scrubbed from stored text from the moment the config is read,
    whether or not the LLM is used in this run: the key file's content and a base URL's password.
    A key file that cannot be read is left to :meth:`Config.api_key` to report."""
    from mockinterview.store import register_secret, url_password

    register_secret(url_password(cfg.llm.base_url))
    f = cfg.llm.api_key_file
    if f:
        try:
            register_secret(f.expanduser().read_text(encoding="utf-8", errors="replace"))
        except OSError:
            pass
