import pytest
import torch

from palette.models.align import ctc_viterbi_durations


def posteriors_for(frame_tokens, V=6, blank=6, sharp=8.0):
    logits = torch.zeros(len(frame_tokens), V + 1)
    logits[torch.arange(len(frame_tokens)), torch.tensor(frame_tokens)] = sharp
    return logits.log_softmax(-1)


def test_recovers_known_durations_with_blanks_merged_left():
    # blank | 2 2 blank | 3 3 blank | 3 | 1 : blanks count for the token before them
    frames = [6, 2, 2, 6, 3, 3, 6, 3, 1]
    d = ctc_viterbi_durations(posteriors_for(frames), torch.tensor([2, 3, 3, 1]), blank=6)
    assert d.tolist() == [4, 3, 1, 1] and d.sum() == len(frames)


def test_durations_sum_to_frames_on_random_posteriors():
    g = torch.Generator().manual_seed(0)
    lp = torch.randn(50, 7, generator=g).log_softmax(-1)
    d = ctc_viterbi_durations(lp, torch.tensor([0, 1, 1, 2, 5]), blank=6)
    assert d.sum() == 50 and (d >= 1).all()


def test_too_few_frames_is_an_error():
    with pytest.raises(ValueError, match="cannot be aligned"):
        ctc_viterbi_durations(posteriors_for([1, 1]), torch.tensor([1, 1]), blank=6)


def test_midpoint_splits_inner_blank_runs_between_neighbours():
    # blank 2 | blank x4 | 3 | blank x2 | 1 : inner runs split in half, leading blank to the first
    frames = [6, 2, 6, 6, 6, 6, 3, 6, 6, 1]
    d = ctc_viterbi_durations(posteriors_for(frames), torch.tensor([2, 3, 1]), 6, "midpoint")
    assert d.tolist() == [4, 4, 2]
    with pytest.raises(ValueError, match="blanks must be"):
        ctc_viterbi_durations(posteriors_for(frames), torch.tensor([2, 3, 1]), 6, "next")
