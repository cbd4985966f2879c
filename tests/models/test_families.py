"""The family table: every family declares its stages, frame kind and options; the facade reads
the table, warns about options a family would ignore, and rejects unknown families."""

import pytest
import torch

from palette.codec import FrameKind, UserError
from palette.models.families import FAMILIES, STAGES, SentenceRequest, get_family, rechunk
from palette.tts.options import SynthesisOptions


def test_every_family_declares_stages_kind_and_options():
    assert set(FAMILIES) == {"ar", "par", "kalle"}
    fields = set(SynthesisOptions.__dataclass_fields__)
    for family in FAMILIES.values():
        assert family.stages and family.stages[0] == family.name
        assert family.options <= fields
        assert set(family.stages + family.optional_stages) <= set(STAGES)
    assert FAMILIES["kalle"].frame_kind({}) is FrameKind.LATENTS
    assert FAMILIES["ar"].frame_kind({}) is FrameKind.CODES


def test_unknown_family_is_a_user_error():
    with pytest.raises(UserError, match="unknown model family 'xyz'"):
        get_family("xyz")


def test_options_a_family_ignores_are_named():
    opts = SynthesisOptions(top_k=5, span=16, speed=1.2)
    par = opts.ignored_by(FAMILIES["par"])
    assert len(par) == 1 and "top_k=5" in par[0] and "used by ar" in par[0]
    ar = opts.ignored_by(FAMILIES["ar"])
    assert {m.split("=")[0] for m in ar} == {"option span", "option speed"}
    assert SynthesisOptions().ignored_by(FAMILIES["kalle"]) == []


def test_rechunk_regroups_pieces_without_losing_frames():
    pieces = [torch.arange(3)[None], torch.arange(3, 10)[None], torch.arange(10, 11)[None]]
    chunks = list(rechunk(iter(pieces), 4))
    assert [c.shape[-1] for c in chunks] == [4, 4, 3]
    assert torch.equal(torch.cat(chunks, -1), torch.arange(11)[None])


def test_sentence_request_counts_tokens_and_frames():
    req = SentenceRequest(torch.arange(10), 4, torch.zeros(2, 30, dtype=torch.long), None, 50.0)
    assert (req.prompt_tokens, req.target_tokens, req.prompt_length) == (3, 6, 30)
    with pytest.raises(UserError, match="no latents"):
        req.prompt_frames(FrameKind.LATENTS)
