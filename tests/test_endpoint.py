"""End-of-turn policy: the silence window follows the words, explicit phrases end at once."""

from __future__ import annotations

import pytest

from mockinterview.speech.endpoint import (
    EndpointDetector,
    EndpointOptions,
    ends_mid_thought,
    is_explicit_end,
    silence_window,
)

FRAME = 0.032


@pytest.mark.parametrize("text", [
    "I would use cross validation to pick the regularisation strength.",
    "Precision is the share of predicted positives that are correct",
    "So overall that covers the main trade-offs we discussed.",
])
def test_complete_thought_gets_short_window(text):
    assert not ends_mid_thought(text)
    assert silence_window(text) == pytest.approx(0.8)


@pytest.mark.parametrize("text", [
    "So, um", "and then", "I would first look at the data because",
    "we could use a model with", "the gradient of the", "and", "I think it's,",
    "well, you know", "", "It depends on whether",
])
def test_mid_sentence_or_filler_gets_long_window(text):
    assert ends_mid_thought(text)
    assert silence_window(text) == pytest.approx(2.5)


@pytest.mark.parametrize("text", [
    "That's my answer.", "and I'm done", "I am done.", "OK, that's all.",
    "That\u2019s all I have", "so yes, that is my answer",
])
def test_explicit_end(text):
    assert is_explicit_end(text)
    assert silence_window(text) == 0.0


@pytest.mark.parametrize("text", [
    "I'm done with the feature engineering part and now", "that's all the data we need to",
    "done", "",
])
def test_not_explicit_when_the_phrase_is_not_at_the_end(text):
    assert not is_explicit_end(text)


def test_a_very_short_answer_gets_the_long_window():
    assert silence_window("And so, my fellow Americans.") == 2.5
    assert silence_window("Yes.", ) == 2.5


def test_window_is_configurable():
    o = EndpointOptions(short_silence_s=0.5, long_silence_s=3.0)
    assert silence_window("A complete sentence that says enough to be an answer.", o) == 0.5
    assert silence_window("and then", o) == 3.0


def _feed(det: EndpointDetector, start_frame: int, n: int, speech: bool) -> int:
    for i in range(start_frame, start_frame + n):
        det.on_frame(i * FRAME, (i + 1) * FRAME, speech)
    return start_frame + n


def _frames(seconds: float) -> int:
    return int(round(seconds / FRAME))


def test_detector_waits_long_after_a_filler_and_short_after_a_sentence():
    det = EndpointDetector()
    f = _feed(det, 0, _frames(0.5), False)
    assert det.decide() is None and not det.speech_started
    f = _feed(det, f, _frames(2.0), True)
    assert det.speech_started
    assert det.speech_start_t == pytest.approx(0.5, abs=FRAME)
    lv = det.last_voiced_t
    det.on_text("and then, um", covers_until=lv + 0.2)
    f = _feed(det, f, _frames(1.0), False)
    assert det.decide() is None  # a thinking pause: not cut off after 1 s
    f = _feed(det, f, _frames(1.6), False)
    assert det.decide() == "silence" and det.window_s == 2.5

    det = EndpointDetector()
    f = _feed(det, 0, _frames(2.0), True)
    det.on_text("I would use early stopping on the validation loss.",
                covers_until=det.last_voiced_t + 0.2)
    f = _feed(det, f, _frames(0.6), False)
    assert det.decide() is None
    f = _feed(det, f, _frames(0.3), False)
    assert det.decide() == "silence" and det.window_s == 0.8


def test_stale_text_keeps_the_long_window():
    det = EndpointDetector()
    f = _feed(det, 0, _frames(1.0), True)
    det.on_text("A full sentence that is long enough.", covers_until=det.last_voiced_t + 0.1)
    f = _feed(det, f, _frames(0.5), False)
    f = _feed(det, f, _frames(1.0), True)  # more speech the text does not cover yet
    f = _feed(det, f, _frames(1.0), False)
    assert not det.text_is_fresh()
    assert det.decide() is None  # 1 s silence < 2.5 s while the words are unknown
    det.on_text("A full sentence that is long enough. And another one.", covers_until=f * FRAME)
    assert det.decide() == "silence"


def test_explicit_phrase_ends_at_once_and_no_speech_times_out():
    det = EndpointDetector()
    f = _feed(det, 0, _frames(1.5), True)
    det.on_text("so that's my answer", covers_until=det.last_voiced_t + 0.2)
    _feed(det, f, 2, False)
    assert det.decide() == "explicit"

    det = EndpointDetector(EndpointOptions(no_speech_timeout_s=3.0))
    _feed(det, 0, _frames(2.0), False)
    assert det.decide() is None
    _feed(det, _frames(2.0), _frames(1.1), False)
    assert det.decide() == "no-speech"


def test_a_click_is_not_speech():
    det = EndpointDetector()
    f = _feed(det, 0, 2, True)  # 64 ms < min_speech_s
    _feed(det, f, _frames(1.0), False)
    assert not det.speech_started and det.decide() is None
