"""The personalization model (implicit-feedback matrix factorisation) and its time-split evaluation."""

from corpus.personalize.model import Context, Personalizer, PersonalizerConfig

__all__ = ["Context", "Personalizer", "PersonalizerConfig"]
