"""Synthetic spoken answers for tests and benchmarks: varied ML sentences, spoken by pyttsx3.

Why varied: Whisper behaves very differently on a repeated sentence (repetition loops, temperature
fallback) than on real answers, so a clip built by repeating one line measures the wrong thing.
Each answer uses distinct sentences in order, joined by pauses of varying length like a speaker who
breathes and thinks.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from mockinterview.speech.audio import SAMPLE_RATE, load_audio

ML_SENTENCES: tuple[str, ...] = (
    "Gradient descent updates the weights in the direction that reduces the loss.",
    "I would start by looking at the distribution of the target variable.",
    "Overfitting happens when the model memorises noise instead of the signal.",
    "Regularisation adds a penalty on large weights to keep the model simple.",
    "Cross validation gives a more honest estimate of how the model will generalise.",
    "A random forest averages many decision trees trained on bootstrapped samples.",
    "Precision tells us how many of the predicted positives were actually positive.",
    "Recall measures how many of the real positives the model managed to find.",
    "For an imbalanced data set I would look at the precision recall curve.",
    "The learning rate controls how big each step of the optimiser is.",
    "Batch normalisation keeps the activations in a stable range during training.",
    "Dropout randomly switches off neurons so the network cannot rely on any single one.",
    "In production I would monitor the input features for drift every week.",
    "A transformer uses attention to relate every token to every other token.",
    "Retrieval augmented generation fetches documents before the model writes an answer.",
    "Embeddings map words or documents into a space where similar things are close.",
    "The bias variance trade off explains why more complex models are not always better.",
    "Feature scaling matters for distance based methods such as nearest neighbours.",
    "Logistic regression predicts a probability by passing a linear score through a sigmoid.",
    "Gradient boosting fits each new tree to the errors of the trees before it.",
    "I would split the data by time so the test set comes after the training set.",
    "Data leakage is when information from the future sneaks into the training features.",
    "A confusion matrix shows where the classifier mixes up the classes.",
    "Principal component analysis finds the directions with the most variance.",
    "K means clustering assigns each point to the nearest centre and then moves the centres.",
    "An A B test needs a sample size large enough to detect the effect we care about.",
    "The p value is the chance of seeing data this extreme if the null hypothesis holds.",
    "Fine tuning adapts a pretrained model to our task with a small labelled data set.",
    "Quantisation stores the weights with fewer bits so inference runs faster.",
    "A vector database returns the nearest embeddings for a query in milliseconds.",
    "To reduce hallucinations I would ground the answers in retrieved sources.",
    "The area under the curve summarises the ranking quality of a classifier.",
    "Early stopping ends training when the validation loss stops improving.",
    "Convolutional networks share weights across positions in an image.",
    "A recurrent network carries a hidden state from one time step to the next.",
    "I would log every experiment with its parameters, code version and metrics.",
    "Missing values can be imputed, but first I would ask why they are missing.",
    "Class weights make the rare class count more in the loss function.",
    "The softmax function turns a vector of scores into probabilities.",
    "Tokenisation splits text into pieces the language model can handle.",
    "A latency budget decides whether a large model can serve requests in real time.",
    "Shapley values explain how much each feature contributed to one prediction.",
    "Stratified sampling keeps the class proportions the same in every fold.",
    "The cold start problem appears when a recommender knows nothing about a new user.",
    "Mean squared error punishes large mistakes more than mean absolute error does.",
    "A learning curve shows whether more data would still help the model.",
    "Hyperparameter search with random sampling often beats a full grid.",
    "Knowledge distillation trains a small student model to copy a large teacher.",
    "I would check the labels by hand on a sample before trusting them.",
    "Cosine similarity compares the angle between two vectors and ignores their length.",
)


def synth_answer(seconds: float, workdir: Path, seed: int = 0, voice=None,
                 pause_range: tuple[float, float] = (0.3, 0.7)) -> tuple[np.ndarray, str]:
    """Render distinct ML sentences until about ``seconds`` of audio; returns (16 kHz float32,
    text).

    Sentences are taken in a seeded order without repetition (a ValueError if the list runs out).
    """
    from mockinterview.speech.speak import Pyttsx3Voice

    voice = voice or Pyttsx3Voice()
    rng = random.Random(seed)
    order = list(ML_SENTENCES)
    rng.shuffle(order)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    parts: list[np.ndarray] = []
    words: list[str] = []
    total = 0
    for i, sentence in enumerate(order):
        if total >= seconds * SAMPLE_RATE:
            break
        wav = voice.render(sentence, workdir / f"s{seed}_{i}.wav")
        x = load_audio(wav)
        pause = np.zeros(int(rng.uniform(*pause_range) * SAMPLE_RATE), dtype=np.float32)
        parts += [x, pause]
        words.append(sentence)
        total += x.size + pause.size
    else:
        if total < seconds * SAMPLE_RATE:
            raise ValueError(f"only {total / SAMPLE_RATE:.0f} s of distinct sentences; "
                             f"{seconds:.0f} s asked")
    return np.concatenate(parts), " ".join(words)


class EspeakCliVoice:
    """The same espeak-ng engine as the interviewer's voice, through its command line.

    Why tests use it: pyttsx3's callback path renders the same text to slightly different
    waveforms on every call (measured: samples differ from about the first 2,000 on), and tiny.en
    then hears a word differently now and then, so a golden test on synthetic speech would pass
    or fail by chance. ``espeak-ng -w`` writes the identical file every time.
    """

    def __init__(self, voice: str = "en-us", rate: int = 175):  # espeak-ng's default rate
        self.voice = voice
        self.rate = rate

    def render(self, text: str, path: Path) -> Path:
        import shutil
        import subprocess

        exe = shutil.which("espeak-ng")
        if exe is None:
            from mockinterview.errors import AudioError

            raise AudioError("espeak-ng is not installed (apt-get install espeak-ng)")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([exe, "-v", self.voice, "-s", str(self.rate), "-w", str(path), text],
                       check=True, capture_output=True, timeout=60)
        return path
