"""U2I personalization: perplexity on held-out users' behavior sequences (`perplexity`); card: CARD.md."""

from eval.u2i.perplexity import U2IResult, loss_masks, perplexity, read_heldout

__all__ = ["U2IResult", "loss_masks", "perplexity", "read_heldout"]
