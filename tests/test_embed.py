import numpy as np
import pytest

from pipeline.embed import Embedder, embed, load_embedder
from pipeline.errors import InputError


def test_default_embedder_puts_french_paraphrases_together():
    texts = [
        "Il nous manque du budget",
        "Nous n'avons pas assez d'argent",
        "Les dirigeants ne s'impliquent pas",
        "Le comité de direction ne porte pas le sujet",
    ]
    v, _ = embed(texts, load_embedder())
    assert v.shape == (4, 512)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    s = v @ v.T
    assert s[0, 1] > s[0, 2] and s[0, 1] > s[0, 3]
    assert s[2, 3] > s[2, 0] and s[2, 3] > s[2, 1]


def test_cache_embeds_only_new_texts_and_returns_the_same_vectors():
    embedder = load_embedder()
    first, computed = embed(["Des formations pour les conseillers", "Un outil de CRM unique"], embedder)
    assert computed == 2
    again, computed = embed(["Un outil de CRM unique", "Un budget dédié", "Des formations pour les conseillers"], embedder)
    assert computed == 1
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])


def test_a_sentence_transformers_model_that_cannot_load_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="impossible de charger le modèle sentence-transformers"):
        load_embedder(str(tmp_path / "no-such-model"))


def test_an_embedder_registered_by_name_is_loaded_by_that_name():
    from pipeline.embed import EMBEDDERS, embedder_id, register_embedder

    loads = []

    @register_embedder("toy-lengths", lambda: "toy-lengths@1")
    def toy() -> Embedder:
        loads.append(1)
        return Embedder(name=embedder_id("toy-lengths"), encode=lambda texts: np.array([[len(t), 1.0] for t in texts]))

    try:
        assert embedder_id("toy-lengths") == "toy-lengths@1" and not loads, "the id is known without loading"
        embedder = load_embedder("toy-lengths")
        assert embedder.name == "toy-lengths@1" and load_embedder("toy-lengths") is embedder and loads == [1]
        vectors, computed = embed(["abc", "a"], embedder)
        assert computed == 2 and np.allclose(vectors[1], [np.sqrt(0.5), np.sqrt(0.5)])
    finally:
        del EMBEDDERS["toy-lengths"]
