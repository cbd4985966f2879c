"""Prompt adaptation: test-time training of a latent, aligned PAR stage on one voice prompt.

KALL-E reports that fine-tuning on the prompt raises speaker similarity. Here a few thousand
parameters (``adapted_names``: the RMSNorm gains of the core, the mask embedding, the biases
of the frame adapters and, in speaker-conditioned stages, of the speaker projection; the big
matrices stay frozen) are trained for a bounded number of Adam
steps on the task the stage was trained on, over the prompt itself: phonemes spread over the
prompt's frames by the stage's own duration head, a random split, the frames before it given
(with no phonemes, as a prompt), the frames after it predicted, KL to the codec posterior.

Guard against learning the prompt's words instead of its voice: the end of the prompt
(``AdaptOptions.holdout``, cut at a phoneme boundary) is never trained on; every
``eval_every`` steps the stage predicts that end from the rest, and training stops after
``patience`` evaluations without improvement. The parameters of the best evaluation are kept,
the unadapted ones included (step 0): adaptation never makes the held-out loss worse.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch

from palette.models.alignment import frame_phonemes, spread_durations
from palette.models.frames import gaussian_kl
from palette.models.par import PARModel
from palette.models.precision import set_compute_dtype

ADAPTED_SUFFIXES = ("norm1.weight", "norm2.weight", "core.norm.weight")
ADAPTED_NAMES = (
    "mask_embed",
    "frames.proj.0.bias",
    "frames.proj.2.bias",
    "frames.head.bias",
    "speaker_proj.bias",  # speaker-conditioned stages: a learnt offset of the speaker vector
)


@dataclass(frozen=True)
class AdaptOptions:
    steps: int = 0  # the PAR stage: Adam steps at most (0 = the stage is left as it is: on the
    # shipped model its adaptation hurts, benchmarks/results/cloning/README.md)
    lr: float = 1e-2
    holdout: float = 0.25  # the prompt's end kept out of training, for early stopping
    eval_every: int = 4  # steps between held-out evaluations
    patience: int = 3  # evaluations without improvement before stopping
    batch: int = 2  # random splits of the prompt per step
    seed: int = 0
    min_frames: int = 50  # shorter prompts are refused (too little left to hold out)
    decoder_steps: int = 24  # codec decoder on the prompt's own round trip: Adam steps (0 = off)
    decoder_lr: float = 3e-3


@dataclass
class AdaptLog:
    """What an adaptation did: held-out loss per evaluation ``(step, loss)``, the step kept."""

    evaluations: list[tuple[int, float]] = field(default_factory=list)
    best_step: int = 0
    steps: int = 0
    seconds: float = 0.0
    decoder: AdaptLog | None = None  # the codec decoder's, when it was adapted too

    @property
    def total_seconds(self) -> float:
        """The time of the whole adaptation (the decoder's included)."""
        return self.seconds + (self.decoder.seconds if self.decoder else 0.0)

    @property
    def gain(self) -> float:
        """Held-out loss before minus after (>= 0)."""
        before = self.evaluations[0][1]
        return before - min(loss for _, loss in self.evaluations)


def adapted_names(model: PARModel) -> list[str]:
    """The parameters prompt adaptation trains (a few thousand)."""
    return [
        n for n, _ in model.named_parameters() if n in ADAPTED_NAMES or n.endswith(ADAPTED_SUFFIXES)
    ]


def check_adaptable(model) -> None:
    if not (isinstance(model, PARModel) and model.continuous and model.config.aligned):
        raise ValueError(
            "prompt adaptation needs an aligned latent PAR stage in PyTorch "
            "(--runtime torch; the families ar/kalle and ONNX stages cannot be adapted)"
        )


@dataclass
class PromptSample:
    """The prompt as a training utterance: phoneme ids ``text [Lt]``, ``durations [Lt]``
    (frames per phoneme, summing to T) and the codec posterior ``mean``/``logstd [D, T]``."""

    text: torch.Tensor
    durations: torch.Tensor
    mean: torch.Tensor
    logstd: torch.Tensor
    speaker: torch.Tensor | None = None  # [E] for speaker-conditioned stages

    def boundary(self, fraction: float) -> int:
        """The phoneme index whose start frame is nearest ``fraction`` of the frames."""
        starts = torch.cumsum(self.durations, 0) - self.durations
        target = fraction * int(self.durations.sum())
        return int((starts.float() - target).abs().argmin())

    def head(self, phonemes: int) -> PromptSample:
        """The first ``phonemes`` phonemes and their frames."""
        frames = int(self.durations[:phonemes].sum())
        d = self.durations[:phonemes]
        mean, logstd = self.mean[:, :frames], self.logstd[:, :frames]
        return PromptSample(self.text[:phonemes], d, mean, logstd, self.speaker)


def prompt_sample(model: PARModel, text: torch.Tensor, mean, logstd, speaker=None) -> PromptSample:
    """``text [Lt]`` (the transcript's phoneme ids) spread over the prompt's ``T`` frames by the
    stage's duration head (``mean``/``logstd [D, T]``; ``speaker [E]`` for conditioned stages)."""
    batch_speaker = None if speaker is None else speaker.reshape(1, -1)
    with torch.no_grad():
        log_d = model.log_durations(text[None], torch.tensor([len(text)]), batch_speaker)[0]
    return PromptSample(text, spread_durations(log_d, mean.shape[-1]), mean, logstd, speaker)


def masked_loss(model: PARModel, sample: PromptSample, splits: list[int], generator=None):
    """Mean KL of the frames after each split phoneme (one row per split), the frames before
    it given without phonemes; posterior samples as inputs when ``generator`` is given, the
    means otherwise."""
    B, T = len(splits), sample.mean.shape[-1]
    starts = torch.cumsum(sample.durations, 0) - sample.durations
    first = starts[torch.tensor(splits)]  # [B] first predicted frame
    frames = torch.arange(T)[None]
    masked = frames >= first[:, None]  # [B, T]
    index, progress = frame_phonemes(sample.durations[None].expand(B, -1), torch.zeros(B), T)
    index = index.masked_fill(~masked, -1)
    q_mean, q_logstd = sample.mean[None].expand(B, -1, -1), sample.logstd[None].expand(B, -1, -1)
    fed = q_mean
    if generator is not None:
        fed = q_mean + q_logstd.exp() * torch.randn(q_mean.shape, generator=generator)
    text = sample.text[None].expand(B, -1)
    lens = torch.full((B,), text.shape[1]), torch.full((B,), T)
    speaker = None if sample.speaker is None else sample.speaker.reshape(1, -1).expand(B, -1)
    p_mean, p_logstd = model.logits(text, lens[0], fed, lens[1], masked, index, progress, speaker)
    kl = gaussian_kl(q_mean.transpose(1, 2), q_logstd.transpose(1, 2), p_mean, p_logstd)
    return kl[masked].mean()


def adapt(
    model: PARModel,
    text: torch.Tensor,
    mean: torch.Tensor,
    logstd: torch.Tensor,
    options: AdaptOptions,
    progress=None,
    speaker: torch.Tensor | None = None,
) -> tuple[dict[str, torch.Tensor], AdaptLog]:
    """Adapt a copy of ``model`` to one prompt (phoneme ids ``text [Lt]``, posterior
    ``mean``/``logstd [D, T]``) -> (the adapted parameters by name, the log). ``progress``:
    called with ``(step, held-out loss or None)`` after every step."""
    check_adaptable(model)
    if mean.shape[-1] < options.min_frames:
        raise ValueError(
            f"a prompt of {mean.shape[-1]} frames is too short to adapt to "
            f"(at least {options.min_frames})"
        )
    start = time.perf_counter()
    model = copy.deepcopy(model).eval()
    set_compute_dtype(model, None)  # trained in fp32 whatever the synthesizer runs in
    names = adapted_names(model)
    trained = trainable(model, names)
    sample = prompt_sample(model, text, mean, logstd, speaker)
    held = sample.boundary(1.0 - options.holdout)
    train = sample.head(held)
    if held < 3:
        raise ValueError(f"the prompt transcript has too few phonemes ({len(text)}) to adapt to")
    generator = torch.Generator().manual_seed(options.seed)

    def step_loss() -> torch.Tensor:
        splits = torch.randint(1, held, (options.batch,), generator=generator).tolist()
        return masked_loss(model, train, splits, generator)

    def held_out_loss() -> float:
        return float(masked_loss(model, sample, [held]))

    kept, log = fit_with_holdout(
        trained, step_loss, held_out_loss, HoldoutFit.of(options), progress
    )
    log.seconds = time.perf_counter() - start
    return kept, log


def trainable(model: torch.nn.Module, names: list[str]) -> dict[str, torch.nn.Parameter]:
    """Freeze ``model`` but its parameters ``names`` -> those parameters by name."""
    params = dict(model.named_parameters())
    for p in model.parameters():
        p.requires_grad_(False)
    for n in names:
        params[n].requires_grad_(True)
    return {n: params[n] for n in names}


@dataclass(frozen=True)
class HoldoutFit:
    """How :func:`fit_with_holdout` trains."""

    steps: int
    lr: float
    eval_every: int
    patience: int

    @classmethod
    def of(cls, options: AdaptOptions, decoder: bool = False) -> HoldoutFit:
        if decoder:
            return cls(
                options.decoder_steps, options.decoder_lr, options.eval_every, options.patience
            )
        return cls(options.steps, options.lr, options.eval_every, options.patience)


def fit_with_holdout(
    params: dict[str, torch.nn.Parameter], step_loss, held_out_loss, fit: HoldoutFit, progress=None
) -> tuple[dict[str, torch.Tensor], AdaptLog]:
    """Adam on ``params`` (name -> parameter, ``requires_grad`` set) minimising ``step_loss()``;
    every ``fit.eval_every`` steps ``held_out_loss()`` (under ``no_grad``) is measured and after
    ``fit.patience`` evaluations without improvement training stops. -> (the parameters of the
    best evaluation, step 0 included, by name; the log). ``progress(step, held-out or None)``."""
    optimizer = torch.optim.Adam(list(params.values()), lr=fit.lr)
    log = AdaptLog()

    def evaluate(step: int) -> float:
        with torch.no_grad():
            loss = held_out_loss()
        log.evaluations.append((step, loss))
        return loss

    def snapshot() -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in params.items()}

    best = (evaluate(0), 0, snapshot())
    stale = 0
    for step in range(1, fit.steps + 1):
        loss = step_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.steps, held_out = step, None
        if step % fit.eval_every == 0 or step == fit.steps:
            held_out = evaluate(step)
            if held_out < best[0]:
                best, stale = (held_out, step, snapshot()), 0
            else:
                stale += 1
        if progress is not None:
            progress(step, held_out)
        if stale >= fit.patience:
            break
    log.best_step = best[1]
    return best[2], log


def adapted_copy(model: PARModel, tensors: dict[str, torch.Tensor]) -> PARModel:
    """A copy of ``model`` with the adapted parameters ``tensors`` (name -> tensor) put in;
    raises ``ValueError`` naming a parameter the model does not adapt or whose shape differs."""
    check_adaptable(model)
    return copy_with(model, tensors, adapted_names(model))


def copy_with(model: torch.nn.Module, tensors: dict[str, torch.Tensor], names) -> torch.nn.Module:
    """A copy of ``model`` (eval mode) with ``tensors`` put in, each the name of one of
    ``names`` and of its parameter's shape (else ``ValueError``)."""
    names = set(names)
    params = dict(model.named_parameters())
    for name, value in tensors.items():
        if name not in names:
            raise ValueError(f"{name!r} is not an adapted parameter of this model")
        if tuple(value.shape) != tuple(params[name].shape):
            raise ValueError(
                f"{name!r} has shape {list(value.shape)}; the model's is {list(params[name].shape)}"
            )
    out = copy.deepcopy(model).eval()
    with torch.no_grad():
        out_params = dict(out.named_parameters())
        for name, value in tensors.items():
            out_params[name].copy_(value)
    return out
