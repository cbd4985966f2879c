"""Self-speculative AR decoding with the CTC draft head: exact greedy equals greedy AR, exact
sampling has plain sampling's distribution, relaxed acceptance follows its thresholds, and the
draft head learns."""

import collections

import pytest
import torch

from palette.codec import UserError
from palette.models.codec_lm import CodecLM
from palette.models.generate import ARGenerator
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeARGenerator, SpeculativeOptions, ctc_greedy

from .conftest import fake_batch, tiny_config, train


def draft_model(seed=0, cardinality=16, **kw):
    torch.manual_seed(seed)
    return CodecLM(
        tiny_config("ar", cardinality=cardinality, draft_upsample=4, draft_weight=1.0, **kw)
    ).eval()


def never_ends(model):
    with torch.no_grad():
        model.frames.head.bias[-1] = -20.0
    return model


def test_ctc_greedy_merges_repeats_and_drops_blanks():
    blank = 3
    path = torch.tensor([0, 0, 3, 0, 1, 1, 3, 3, 2])
    logits = torch.nn.functional.one_hot(path, 4).float() * 10
    codes, entropy = ctc_greedy(logits, blank)
    assert codes.tolist() == [0, 0, 1, 2] and entropy.shape == (4,)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_greedy_is_token_identical_to_greedy_ar(seed):
    model = never_ends(draft_model(seed))
    g = torch.Generator().manual_seed(seed)
    text, prompt = torch.randint(1, 20, (9,), generator=g), torch.randint(0, 16, (6,), generator=g)
    greedy = SamplingOptions(temperature=0.0)
    plain = ARGenerator(model, text, prompt, 30, greedy).generate()
    spec = SpeculativeARGenerator(
        model, text, prompt, 30, greedy, SpeculativeOptions("exact", draft_tokens=5), target_start=4
    )
    assert torch.equal(spec.generate(), plain)
    # a draft that is always right commits K + 1 codes per pass
    right = SpeculativeARGenerator(
        model, text, prompt, 30, greedy, SpeculativeOptions("exact", draft_tokens=5), target_start=4
    )
    right._prefill()
    right.hypothesis, right.entropy = plain.clone(), torch.zeros(len(plain))
    assert torch.equal(right.generate(), plain)
    assert right.accepted == right.drafted and right.passes <= 1 + -(-30 // 6)


def test_exact_sampling_has_the_distribution_of_plain_sampling():
    model = never_ends(draft_model(3, cardinality=3))
    text, prompt = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([0, 1])
    options = SamplingOptions(temperature=1.0)
    n, plain, spec = 1500, collections.Counter(), collections.Counter()
    for i in range(n):
        plain[tuple(ARGenerator(model, text, prompt, 3, options, seed=i).generate().tolist())] += 1
        s = SpeculativeARGenerator(
            model,
            text,
            prompt,
            3,
            options,
            SpeculativeOptions("sampling", draft_tokens=2),
            2,
            seed=i,
        )
        s._prefill()
        s.hypothesis, s.entropy = torch.tensor([0, 1, 2]), torch.zeros(3)  # right or wrong
        spec[tuple(s.generate().tolist())] += 1
    tv = 0.5 * sum(abs(plain[k] - spec[k]) for k in set(plain) | set(spec)) / n
    assert tv < 0.06, (tv, plain.most_common(5), spec.most_common(5))


def test_relaxed_follows_its_thresholds():
    model = never_ends(draft_model(4))
    text, prompt = torch.randint(1, 20, (8,)), torch.randint(0, 16, (4,))
    opts = SamplingOptions(temperature=0.7)
    hyp = torch.arange(16) % 16

    def run(tau_ctc, tau_lm):
        s = SpeculativeARGenerator(
            model,
            text,
            prompt,
            12,
            opts,
            SpeculativeOptions("relaxed", 4, tau_ctc, tau_lm),
            3,
            seed=0,
        )
        s._prefill()
        s.hypothesis, s.entropy = hyp, torch.ones(16)
        return s.generate(), s

    everything, s = run(tau_ctc=2.0, tau_lm=1.0)  # entropy 1 < 2: whole spans kept
    assert s.accepted == s.drafted and torch.equal(everything[:4], hyp[:4])
    _, s = run(tau_ctc=0.0, tau_lm=1.01)  # nothing is that sure: every draft rejected
    assert s.accepted == 0 and s.drafted > 0


def test_speculative_decoding_needs_a_draft_head_and_patch_1():
    torch.manual_seed(0)
    plain = CodecLM(tiny_config("ar")).eval()
    with pytest.raises(UserError, match="draft head"):
        SpeculativeARGenerator(
            plain,
            torch.tensor([1, 2]),
            torch.tensor([0]),
            4,
            SamplingOptions(),
            SpeculativeOptions(),
            1,
        )
    patched = draft_model(patch=2)
    with pytest.raises(UserError, match="patch 1"):
        SpeculativeARGenerator(
            patched,
            torch.tensor([1, 2]),
            torch.tensor([0, 1]),
            4,
            SamplingOptions(),
            SpeculativeOptions(),
            1,
        )


def test_the_draft_head_learns_the_codes_by_ctc():
    model = draft_model(5).train()
    batch = fake_batch()
    first = model(batch)["draft"].item()
    train(model, batch, 150)
    last = model(batch)["draft"].item()
    assert last < 0.5 * first


@pytest.mark.parametrize("mode", ["exact", "sampling", "relaxed"])
def test_every_mode_streams_through_the_ar_family(mode):
    from palette.models.families import FAMILIES, SentenceRequest
    from palette.tts.options import SynthesisOptions, resolve_options

    model = never_ends(draft_model(6))
    request = SentenceRequest(
        torch.randint(1, 20, (10,)), 4, torch.randint(0, 16, (1, 8)), None, 50.0
    )
    options = resolve_options(
        SynthesisOptions(family="ar", speculative=mode, draft_tokens=3, ras_window=0), {}
    )
    pieces = list(FAMILIES["ar"].pieces(request, {"ar": model}, options, whole=False))
    again = torch.cat(list(FAMILIES["ar"].pieces(request, {"ar": model}, options, whole=True)), -1)
    assert len(pieces) > 1 and torch.equal(torch.cat(pieces, -1), again)
    assert again.shape[0] == 1  # one codebook: no NAR stage needed
