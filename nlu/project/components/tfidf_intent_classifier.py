"""Intent classifier: sublinear TF-IDF over char n-grams and Jieba words + logistic regression.

Rasa's LogisticRegressionClassifier sees the raw counts of CountVectorsFeaturizer at C = 1;
TF-IDF weighting with a larger C is what made the scikit-learn baseline stronger (docs/nlu.md).
FAQ examples are learnt under their full name (faq/<key>): the answer says intent `faq` with
`full_retrieval_intent_name`, which Rasa keeps when no ResponseSelector overwrites it.
Runs inside the Rasa venv (Python 3.10), so no syntax newer than that.
"""

import logging
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    FULL_RETRIEVAL_INTENT_NAME_KEY,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)

MODEL_FILE = "tfidf_intent_classifier.joblib"


def token_list(words: list[str]) -> list[str]:
    """Return the tokens as they are (the word vectorizer's analyzer; picklable by name)."""
    return words


def _words(message: Message) -> list[str]:
    """Return the Jieba tokens of a message's text, lower-cased, without blanks."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return [t.text.lower() for t in tokens if t.text.strip()]


def _label(message: Message) -> str:
    """Return the training label: the full retrieval name (faq/<key>) or the intent."""
    return str(message.get_full_intent())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfIntentClassifier(IntentClassifier, GraphComponent):
    """Predicts intents (and FAQ keys) from TF-IDF features of the text and its Jieba words."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Needs a tokenizer (JiebaTokenizer) before it for the word features."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config: char n-gram range, C, iterations, ranking length."""
        return {"min_ngram": 1, "max_ngram": 4, "C": 20.0, "max_iter": 3000, "ranking_length": 10}

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource
    ) -> None:
        """Build the (untrained) vectorizers and classifier from the config."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        ngrams = (int(self.config["min_ngram"]), int(self.config["max_ngram"]))
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True)
        self.words = TfidfVectorizer(analyzer=token_list, sublinear_tf=True)
        self.clf = LogisticRegression(
            C=float(self.config["C"]), max_iter=int(self.config["max_iter"])
        )
        self.trained = False

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TfidfIntentClassifier":
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    def _features(self, messages: list[Message], fit: bool = False) -> Any:
        """Stack the char n-gram and word TF-IDF matrices of the messages."""
        texts = [str(m.get(TEXT) or "").lower() for m in messages]
        words = [_words(m) for m in messages]
        if fit:
            return hstack(
                [self.chars.fit_transform(texts), self.words.fit_transform(words)]
            ).tocsr()
        return hstack([self.chars.transform(texts), self.words.transform(words)]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vectorizers and the logistic regression on the intent examples."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("no intent examples: %s not trained", self.__class__.__name__)
            return self._resource
        self.clf.fit(self._features(examples, fit=True), [_label(e) for e in examples])
        self.trained = True
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump((self.chars, self.words, self.clf), model_dir / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TfidfIntentClassifier":
        """Load a trained classifier from the model (an untrained one if it has none)."""
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                component.chars, component.words, component.clf = joblib.load(
                    model_dir / MODEL_FILE
                )
                component.trained = True
        except (ValueError, FileNotFoundError):
            logger.debug("no trained %s in the model", cls.__name__)
        return component

    @staticmethod
    def _entry(label: str, confidence: float) -> dict[str, Any]:
        """Return Rasa's intent dict for a label; faq/<key> becomes `faq` plus its full name."""
        entry: dict[str, Any] = {
            INTENT_NAME_KEY: label.split("/", 1)[0],
            PREDICTED_CONFIDENCE_KEY: confidence,
        }
        if "/" in label:
            entry[FULL_RETRIEVAL_INTENT_NAME_KEY] = label
        return entry

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the most likely intent and the ranking on each message."""
        if not self.trained or not messages:
            return messages
        probabilities = self.clf.predict_proba(self._features(messages))
        classes: np.ndarray = self.clf.classes_
        for message, row in zip(messages, probabilities, strict=True):
            order = np.argsort(-row)[: max(1, int(self.config["ranking_length"]))]
            ranking = [self._entry(str(classes[i]), float(row[i])) for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
