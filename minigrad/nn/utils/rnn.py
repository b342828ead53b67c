"""``torch.nn.utils.rnn``: sequences of different lengths padded into one batch.

minigrad's recurrent layers take padded batches only; ``PackedSequence`` and the packing
functions are not here (calling them says so)."""
from ...tensor import Tensor


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into one of shape (max L_i, B, *) — or (B, max L_i, *)
    when ``batch_first`` — filling the missing steps with ``padding_value``, after each
    sequence (``padding_side="right"``) or before it ("left"). Built of ``F.pad`` and
    ``stack``, so gradients flow back to each sequence (none to the filler)."""
    from ...functions import stack
    from ..layer_functions import pad
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = list(sequences)           # a tensor counts as the sequence of its rows
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for s in sequences:
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected tensors, got {type(s).__name__}")
        if s.ndim == 0:
            raise RuntimeError("pad_sequence: expected sequences of at least one dimension, "
                               "got a 0-d tensor")
        if s.shape[1:] != sequences[0].shape[1:]:
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing shape "
                               f"{tuple(sequences[0].shape[1:])}, got {tuple(s.shape)}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        steps = (missing, 0) if padding_side == "left" else (0, missing)
        padded.append(pad(s, (0, 0) * (s.ndim - 1) + steps, value=padding_value)
                      if missing else s)
    return stack(padded, dim=0 if batch_first else 1)


def _packing_missing(name):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"{name}: minigrad has no PackedSequence; its RNN, LSTM and GRU take padded "
            f"batches (use nn.utils.rnn.pad_sequence, and read each sequence's output at its "
            f"own length)")
    refuse.__name__ = name
    refuse.__doc__ = f"Not in minigrad: its recurrent layers take padded batches ({name})."
    return refuse


pack_padded_sequence = _packing_missing("pack_padded_sequence")
pack_sequence = _packing_missing("pack_sequence")
pad_packed_sequence = _packing_missing("pad_packed_sequence")
