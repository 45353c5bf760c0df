"""Classifiers behind one small interface: ``score(media, kind) -> list[Score]``.

- ``Classifier`` (protocol), ``ClassifierError`` (one media could not be scored: record and go on),
  ``ClassifierConfigError`` (bad configuration: refuse to start)
- ``NudeNetClassifier``: explicit-nudity probability ``nudity`` (offline ONNX model)
- ``HttpClassifier``: an external service (JSON/base64 or multipart POST, dotted-path response mapping)
- ``build_classifier(spec)``, ``build_classifiers(config)``, ``get_classifier(name)`` (per process)
Scores set review priority through the policy; they never act on their own.
"""

from suraksha.classify.base import Classifier, ClassifierConfigError, ClassifierError, Score
from suraksha.classify.http import HttpClassifier
from suraksha.classify.nudenet import EXPLICIT_CLASSES, NudeNetClassifier
from suraksha.classify.registry import build_classifier, build_classifiers, get_classifier, reset_classifiers

__all__ = [
    "EXPLICIT_CLASSES",
    "Classifier",
    "ClassifierConfigError",
    "ClassifierError",
    "HttpClassifier",
    "NudeNetClassifier",
    "Score",
    "build_classifier",
    "build_classifiers",
    "get_classifier",
    "reset_classifiers",
]
