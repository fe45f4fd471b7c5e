"""Issue 19, item 5: lookalike articles (one template filled in for twenty towns) must not
lend each other their facts. Each question names its project and town; the answer must
come from that town's article, on the real models. Target: at least 19 of 20 right."""

import random

import pytest

from rag.assemble import build
from rag.documents import make_article

from ..conftest import Rig

TOWNS = ["Ashcombe", "Brambleford", "Carrowmore", "Dunmere", "Eastwick", "Fenwold", "Glenrath",
         "Harlowe", "Inchbury", "Kilverton", "Larkspur", "Merriton", "Northolm", "Oakhollow",
         "Pendlewick", "Quarrydale", "Rosslare", "Stonebridge", "Thornbury", "Wexcombe"]
FRUITS = ["apple", "pear", "plum", "cherry", "lychee", "quince", "apricot", "fig", "mango", "peach"]
TEMPLATE = ("{town} council backs riverside orchard\n\n"
            "The town council of {town} announced on Tuesday that it had approved project {code}, "
            "a plan to turn the old towpath into a public orchard. "
            "Councillors voted in favour after a short debate. "
            "The project will plant exactly {n} {fruit} trees along the river. "
            "Work is expected to start in the spring and volunteers are welcome.")


def _cases():
    rng = random.Random(19)
    out = []
    for town in TOWNS:
        code = "".join(rng.choice("ABCDEFGHKMNPRSTXZ") for _ in range(2)) + str(rng.randint(10000, 99999)) + "R"
        out.append((town, code, rng.randint(100, 999), rng.choice(FRUITS)))
    return out


@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory, real_settings, real_embedder, real_generator):
    settings = real_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("lookalikes")})
    p = Rig(*build(settings, embedder=real_embedder, generator=real_generator))
    cases = _cases()
    p.index.ingest([make_article(TEMPLATE.format(town=t, code=c, n=n, fruit=f), id=f"town-{i}")
                    for i, (t, c, n, f) in enumerate(cases)])
    return p, cases


def test_lookalike_articles_do_not_lend_each_other_their_figures(lookalikes):
    p, cases = lookalikes
    right, wrong = 0, []
    for i, (town, code, n, fruit) in enumerate(cases):
        a = p.ask(f"How many {fruit} trees will project {code} in {town} plant?")
        others = {str(m) for j, (_, _, m, _) in enumerate(cases) if j != i}
        cited = {c.article_id for c in a.citations}
        ok = (not a.abstained and str(n) in a.answer and cited == {f"town-{i}"}
              and not any(o in a.answer for o in others))
        right += ok
        if not ok:
            wrong.append((town, n, a.answer, sorted(cited)))
    assert right >= 19, wrong
