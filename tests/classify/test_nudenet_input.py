"""Our in-memory decode feeds NudeNet exactly what its own file path would (channel order, no resize
for small pictures): checked on a benign photo from the shared reference set in which NudeNet finds faces.

Generated pictures give no detections at all, so they cannot tell a swapped channel order apart;
this photo does (swapping red and blue moves both face scores by 0.07-0.12).
"""

from __future__ import annotations

import pytest

pytest.importorskip("nudenet", reason="nudenet is not installed (pip install 'suraksha[classify]')")

from suraksha.classify import NudeNetClassifier  # noqa: E402
from suraksha.classify import nudenet as nudenet_mod  # noqa: E402


def test_detections_equal_nudenets_own_decoding(reference_dir):
    photo = (reference_dir / "pdq" / "reg-test-input" / "labelme-subset" / "q0291.jpg").read_bytes()
    clf = NudeNetClassifier()
    detector = nudenet_mod._get_detector()
    theirs = detector.detect(photo)  # NudeNet decoding the bytes itself with OpenCV
    ours = detector.detect(clf._decode_image(photo))
    assert [d["class"] for d in theirs] == ["FACE_MALE", "FACE_MALE"]
    assert [(d["class"], round(d["score"], 3), d["box"]) for d in ours] == [
        (d["class"], round(d["score"], 3), d["box"]) for d in theirs
    ]
    assert clf.score(photo, "image")[0].value == 0.0  # faces are not nudity
