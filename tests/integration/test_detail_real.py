"""Issue 19, topic present, detail absent (rag/answering/detail.py), on the real models: an
invented wildfire report that gives distances, acres and crews but no evacuation count."""

import pytest

from rag.assemble import build
from rag.documents import make_article

from ..conftest import Rig

FIRE = ("The Cedar Ridge Fire was burning about seven miles north of the hamlet of Marlow on "
        "Sunday, fire officials said. The blaze has scorched 2,400 acres of pine forest since it "
        "started on Thursday. More than 300 firefighters and four helicopters are working to "
        "contain it. Officials said the cause of the fire is under investigation. A firefighter, "
        "Dana Whitlow, was treated for heat exhaustion at Marlow Community Hospital and released.")


@pytest.fixture(scope="module")
def fire(tmp_path_factory, real_settings, real_embedder, real_generator):
    settings = real_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("fire")})
    p = Rig(*build(settings, embedder=real_embedder, generator=real_generator))
    p.index.ingest([make_article(FIRE, title="Cedar Ridge Fire grows near Marlow", id="fire")])
    return p


def test_a_count_of_miles_does_not_answer_how_many_people(fire):
    a = fire.ask("How many people were evacuated from Marlow because of the Cedar Ridge Fire?")
    assert a.abstained, a.answer


def test_a_count_of_miles_does_not_answer_how_many_acres(fire):
    """The miles sentence ranks first: not answered rather than answered "seven"."""
    a = fire.ask("How many acres has the Cedar Ridge Fire burned?")
    assert a.abstained or ("2,400" in a.answer and "seven" not in a.answer), a.answer


def test_a_count_of_what_is_asked_is_answered(fire):
    a = fire.ask("How many firefighters are working on the Cedar Ridge Fire?")
    assert not a.abstained and "300" in a.answer, a.answer
