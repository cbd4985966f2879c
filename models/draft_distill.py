"""Distillation of the kalle family's Gaussian draft head on the model's own decoding.

Trained with the backbone, the draft head learns the codec posterior ``k`` steps ahead from
teacher-forced states. At inference its drafts are judged against something else: the model's
own Gaussian for that step, on the model's own history (``speculative_gaussian``). This second
stage trains the head on exactly that, with every other weight frozen: the model decodes a
sentence greedily (temperature 0, the recommended kalle setting), one teacher-forced pass over
the result gives the state that predicted every generated step and the model's Gaussian
``p`` for it, and the head learns ``KL(p[s + k] || q_k(state[s]))`` for k = 1..ahead. The
model's plain outputs do not change (only ``gaussian_draft.*`` tensors do).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from palette.models.codec_lm import CodecLM
from palette.models.frames import GaussianDraft, gaussian_kl
from palette.models.generate import ARGenerator, GaussianSampling


@dataclass
class Rollout:
    """One greedily decoded sentence, as the draft head sees it (G generated steps)."""

    states: torch.Tensor  # [G, C] the state that predicted each generated step
    phones: torch.Tensor  # [G, C] each step's aligned inputs (what the head is given for it)
    mean: torch.Tensor  # [G, P, D] the model's Gaussian for each step
    logstd: torch.Tensor  # [G, P, D]


@torch.inference_mode()
def greedy_rollout(
    model: CodecLM,
    text: torch.Tensor,
    prompt: torch.Tensor,
    max_frames: int,
    durations: torch.Tensor,
    speaker: torch.Tensor | None = None,
) -> Rollout:
    """Decode ``text [Lt]`` after ``prompt [D, Tp]`` greedily (aligned model: ``durations
    [Lt]``, zero for the prompt's phonemes; ``speaker [1, E]``) and read back, in one
    teacher-forced pass, the states, aligned inputs and Gaussians of the generated steps."""
    options = GaussianSampling(temperature=0.0)
    generator = ARGenerator(
        model, text, prompt, max_frames, options, durations=durations, speaker=speaker
    )
    frames = generator.generate()  # [D, T]
    P = model.config.patch
    first = generator.prompt.shape[-1] // P  # index of the first generated step
    G = -(-frames.shape[-1] // P)
    history = torch.cat([generator.prompt, frames], dim=-1)
    history = torch.nn.functional.pad(history, (0, G * P - frames.shape[-1]))[None]
    steps = model.step_inputs(history)  # [1, S, C]
    S = steps.shape[1]
    states = model.run(
        generator.text,
        generator.text_lens,
        steps,
        torch.tensor([S]),
        phones=generator.phone_rows(0, S + 1),
        speaker=speaker,
    )[0, first : first + G]
    mean, logstd, _ = model.frames.predict(states[None])
    phones = generator.phone_rows(first, G)[0]
    return Rollout(states.clone(), phones.clone(), mean[0].clone(), logstd[0].clone())


@dataclass
class DraftRows:
    """Every (anchor step, offset) pair of a set of rollouts, for batched training. The steps of
    all rollouts are held once, concatenated; a row is its anchor's index into them and its
    offset, and reads the anchor's state and the drafted step's aligned inputs and Gaussian."""

    steps: Rollout  # every step of every rollout, concatenated: [M, ...]
    anchor: torch.Tensor  # [N] the anchor step's index into ``steps``: one id per draft round
    offsets: torch.Tensor  # [N] in 1..ahead

    @classmethod
    def from_rollouts(cls, rollouts: list[Rollout], ahead: int) -> DraftRows:
        anchors, offsets, first = [], [], 0
        for r in rollouts:
            G = r.states.shape[0]
            for k in range(1, min(ahead, G - 1) + 1):
                s = torch.arange(G - k)
                anchors.append(first + s)
                offsets.append(torch.full_like(s, k))
            first += G
        if not anchors:
            raise ValueError("no rollout is long enough to draft from")
        steps = Rollout(
            *(torch.cat([getattr(r, f.name) for r in rollouts]) for f in fields(Rollout))
        )
        return cls(steps, torch.cat(anchors), torch.cat(offsets))

    @property
    def states(self) -> torch.Tensor:
        """``[N, C]`` the anchor's state."""
        return self.steps.states[self.anchor]

    @property
    def phones(self) -> torch.Tensor:
        """``[N, C]`` the drafted step's aligned inputs."""
        return self.steps.phones[self.anchor + self.offsets]

    @property
    def mean(self) -> torch.Tensor:
        """``[N, P, D]`` the model's Gaussian for the drafted step (and ``logstd``)."""
        return self.steps.mean[self.anchor + self.offsets]

    @property
    def logstd(self) -> torch.Tensor:
        return self.steps.logstd[self.anchor + self.offsets]

    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    def take(self, index: torch.Tensor) -> DraftRows:
        return DraftRows(self.steps, self.anchor[index], self.offsets[index])


def draft_gaussians(head: GaussianDraft, rows: DraftRows) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's ``q`` (mean, logstd ``[N, P, D]``) for every row."""
    mean, logstd = head(rows.states[None].float(), rows.phones[None].float(), rows.offsets)
    return mean[0], logstd[0]


def distillation_loss(head: GaussianDraft, rows: DraftRows) -> torch.Tensor:
    """Mean over rows of ``KL(p || q)`` per latent dimension (p: the model, q: the draft)."""
    q_mean, q_logstd = draft_gaussians(head, rows)
    kl = gaussian_kl(rows.mean.float(), rows.logstd.float(), q_mean, q_logstd)
    return kl.mean()


@torch.no_grad()
def acceptance(head: GaussianDraft, rows: DraftRows, taus: tuple[float, ...]) -> dict:
    """What relaxed speculative decoding at temperature 0 would keep: a draft (the head's mean)
    is kept while ``exp(-mean(z^2) / 2) >= tau``, ``z`` its distance to the model's mean in the
    model's standard deviations. -> for each tau, the share of drafts kept at each offset and
    the mean accepted prefix of a round (drafts kept before the first rejection)."""
    q_mean, _ = draft_gaussians(head, rows)
    z = (q_mean - rows.mean.float()) * torch.exp(-rows.logstd.float())
    score = torch.exp(-0.5 * z.pow(2).flatten(1).mean(1))  # [N]
    out = {}
    for tau in taus:
        kept = score >= tau
        by_offset = {
            int(k): float(kept[rows.offsets == k].float().mean())
            for k in rows.offsets.unique(sorted=True)
        }
        prefix = accepted_prefix(rows.anchor, rows.offsets, kept).float()
        out[tau] = {"kept_by_offset": by_offset, "accepted": float(prefix.mean())}
    return out


def accepted_prefix(
    anchor: torch.Tensor, offsets: torch.Tensor, kept: torch.Tensor
) -> torch.Tensor:
    """Rows ``[N]`` of draft rounds (``anchor`` id, ``offsets`` 1..K, ``kept`` bool) -> drafts a
    round keeps before its first rejection, per anchor that has an offset-1 row ``[A]``."""
    grid = torch.zeros(int(anchor.max()) + 1, int(offsets.max()), dtype=torch.bool)
    grid[anchor, offsets - 1] = kept
    used = torch.zeros_like(grid[:, 0])
    used[anchor[offsets == 1]] = True
    return grid[used].to(torch.int64).cumprod(dim=1).sum(dim=1)
