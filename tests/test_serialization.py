"""ember.save / ember.load against real torch: both directions, safety, faults."""
import collections
import io
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.serialization as ser
from oracle import ALL_DTYPES, make_array

DTYPES = ALL_DTYPES + ("bfloat16",)


def _np(t):
    """A torch or ember tensor's values as NumPy (bfloat16 through float32, exact)."""
    if isinstance(t, torch.Tensor):
        if t.dtype == torch.bfloat16:
            return t.float().numpy()
        return t.numpy()
    a = t._data
    return a.astype(np.float32) if a.dtype.name == "bfloat16" else a


def same(e, t):
    """ember tensor e and torch tensor t agree in values, dtype, shape, stride, offset."""
    assert isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(_np(e), _np(t))


def pair(dtype, shape=(3, 4), seed=0):
    a = np.asarray(make_array(shape, dtype, rng=np.random.default_rng(seed)))
    te = ember.from_numpy(a.copy()) if dtype != "bfloat16" else ember.tensor(a.astype(np.float32)).bfloat16()
    if a.size == 0:   # torch.tensor(empty ndarray) has stride 0; a fresh empty tensor has 1
        return ember.zeros(shape, dtype=getattr(ember, dtype)), \
            torch.zeros(shape, dtype=getattr(torch, dtype))
    tt = torch.tensor(a) if dtype != "bfloat16" else torch.tensor(a.astype(np.float32)).bfloat16()
    return te, tt


def torch_to_ember(obj, **kw):
    b = io.BytesIO()
    torch.save(obj, b, **kw)
    b.seek(0)
    return ember.load(b)


def ember_to_torch(obj, **kw):
    b = io.BytesIO()
    ember.save(obj, b, **kw)
    b.seek(0)
    return torch.load(b, weights_only=True)


# ---------------------------------------------------------------------------------------------
# Both directions, every dtype, layouts

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (), (0,), (2, 0, 3)])
def test_dtypes_both_directions(dtype, shape):
    te, tt = pair(dtype, shape)
    same(torch_to_ember(tt), tt)
    same(te, ember_to_torch(te))


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
def test_new_dtypes_use_rebuild_v3(dtype):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    tt = torch.from_numpy(a.copy())
    same(torch_to_ember(tt), tt)
    same(ember.from_numpy(a.copy()), ember_to_torch(ember.from_numpy(a.copy())))


def test_views_share_storage_both_directions():
    base_t = torch.arange(24.).reshape(4, 6)
    views_t = {"base": base_t, "t": base_t.t(), "col": base_t[:, 2], "slice": base_t[1:3, ::2],
               "exp": base_t[0].expand(3, 6)}
    got = torch_to_ember(views_t)
    for k in views_t:
        same(got[k], views_t[k])
    ptrs = {got[k].untyped_storage().data_ptr() for k in got}
    assert len(ptrs) == 1
    got["base"][0, 2] = 100.0       # one storage again: writes show through every view
    assert got["col"][0].item() == 100.0 and got["t"][2, 0].item() == 100.0

    base_e = ember.arange(24.).reshape(4, 6)
    views_e = {"base": base_e, "t": base_e.t(), "col": base_e[:, 2],
               "slice": base_e[1:3, ::2], "exp": base_e[0].expand(3, 6)}
    back = ember_to_torch(views_e)
    for k in views_e:
        same(views_e[k], back[k])
    assert len({back[k].untyped_storage().data_ptr() for k in back}) == 1


def test_one_record_per_storage():
    base = ember.arange(10.)
    b = io.BytesIO()
    ember.save([base[:2], base[5:], base], b)
    names = zipfile.ZipFile(b).namelist()
    assert sum("/data/" in n for n in names) == 1


def test_nested_containers_and_primitives():
    te, tt = pair("float32")
    obj_t = {"list": [tt, 1, 2.5, "s", None, True], "tuple": (tt, (tt[0],)), "set": {1, 2},
             "bytes": b"\x00\xff", "complex": 1 + 2j, "int": 2 ** 70, "nested": {"a": {"b": [tt]}},
             "size": torch.Size([2, 3]), "dtype": torch.bfloat16, "dev": torch.device("cpu")}
    got = torch_to_ember(obj_t)
    same(got["list"][0], tt)
    assert got["list"][1:] == [1, 2.5, "s", None, True]
    same(got["tuple"][1][0], tt[0])
    assert got["set"] == {1, 2} and got["bytes"] == b"\x00\xff" and got["complex"] == 1 + 2j
    assert got["int"] == 2 ** 70
    same(got["nested"]["a"]["b"][0], tt)
    assert type(got["size"]) is ember.Size and got["size"] == (2, 3)
    assert got["dtype"] is ember.bfloat16 and got["dev"] == ember.device("cpu")

    obj_e = {"list": [te, 1, "s"], "size": ember.Size([2, 3]), "dtype": ember.float16,
             "dev": ember.device("cpu"), "bytes": b"ab", "set": {3}}
    back = ember_to_torch(obj_e)
    same(te, back["list"][0])
    assert type(back["size"]) is torch.Size and back["size"] == torch.Size([2, 3])
    assert back["dtype"] is torch.float16 and back["dev"] == torch.device("cpu")
    assert back["bytes"] == b"ab" and back["set"] == {3}


def test_parameters_round_trip():
    from ember.nn import Parameter
    pt = torch.nn.Parameter(torch.randn(3))
    pf = torch.nn.Parameter(torch.randn(2), requires_grad=False)
    got = torch_to_ember([pt, pf])
    assert type(got[0]) is Parameter and got[0].requires_grad
    assert type(got[1]) is Parameter and not got[1].requires_grad
    np.testing.assert_array_equal(got[0].detach()._data, pt.detach().numpy())

    pe = Parameter(ember.arange(3.))
    back = ember_to_torch([pe, Parameter(ember.ones(2), requires_grad=False)])
    assert type(back[0]) is torch.nn.Parameter and back[0].requires_grad
    assert type(back[1]) is torch.nn.Parameter and not back[1].requires_grad
    np.testing.assert_array_equal(back[0].detach().numpy(), [0, 1, 2])


def test_requires_grad_tensor():
    t = torch.randn(2, requires_grad=True)
    assert torch_to_ember(t).requires_grad
    assert ember_to_torch(ember.ones(2, requires_grad=True)).requires_grad


def test_ordered_dict_metadata_both_ways():
    sd = collections.OrderedDict([("w", torch.ones(2)), ("b", torch.zeros(1))])
    sd._metadata = {"": {"version": 1}}
    got = torch_to_ember(sd)
    assert type(got) is collections.OrderedDict and list(got) == ["w", "b"]
    assert got._metadata == {"": {"version": 1}}
    sd_e = collections.OrderedDict([("w", ember.ones(2))])
    sd_e._metadata = {"": {"version": 2}}
    back = ember_to_torch(sd_e)
    assert type(back) is collections.OrderedDict and back._metadata == {"": {"version": 2}}


def _torch_model_and_opt():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    return model, opt


def test_torch_state_dicts_to_ember_and_back():
    model, opt = _torch_model_and_opt()
    ckpt = {"epoch": 3, "model_state": model.state_dict(), "optim_state": opt.state_dict()}
    got = torch_to_ember(ckpt)
    assert got["epoch"] == 3
    for k, v in ckpt["model_state"].items():
        same(got["model_state"][k], v)
    assert got["model_state"]._metadata == ckpt["model_state"]._metadata
    assert got["optim_state"]["param_groups"] == ckpt["optim_state"]["param_groups"]
    for i, st in ckpt["optim_state"]["state"].items():
        for k, v in st.items():
            same(got["optim_state"]["state"][i][k], v)
    # ember writes it back; torch restores the model and the optimizer from ember's file
    back = ember_to_torch(got)
    model2, opt2 = _torch_model_and_opt()
    model2.load_state_dict(back["model_state"])
    opt2.load_state_dict(back["optim_state"])
    for (k, v), v2 in zip(model.state_dict().items(), model2.state_dict().values()):
        assert torch.equal(v, v2)


def test_ember_nn_state_dicts_if_available():
    nn = pytest.importorskip("ember.nn")
    if not hasattr(nn, "Linear") or not hasattr(nn, "Module"):
        pytest.skip("ember.nn.Linear not written yet")
    lin = nn.Linear(4, 3)
    sd = lin.state_dict()
    back = ember_to_torch(sd)
    tl = torch.nn.Linear(4, 3)
    tl.load_state_dict(back)
    np.testing.assert_array_equal(tl.weight.detach().numpy(), lin.weight.detach()._data)
    got = torch_to_ember(tl.state_dict())
    lin.load_state_dict(got)
    b = io.BytesIO()
    ember.save(lin, b)
    b.seek(0)
    whole = ember.load(b, weights_only=False)
    assert type(whole) is type(lin)
    np.testing.assert_array_equal(whole.weight.detach()._data, lin.weight.detach()._data)


def test_checkpoint_idiom_with_paths(tmp_path):
    model, opt = _torch_model_and_opt()
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 7, "model_state": model.state_dict(),
                "optim_state": opt.state_dict()}, path)
    ckpt = ember.load(path)
    ember.save(ckpt, str(path))
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert "ckpt/data.pkl" in names and "ckpt/byteorder" in names and "ckpt/version" in names
    assert "ckpt/.format_version" in names and "ckpt/.storage_alignment" in names
    assert "ckpt/.data/serialization_id" in names
    again = torch.load(path, weights_only=True)
    assert again["epoch"] == 7
    model2, opt2 = _torch_model_and_opt()
    model2.load_state_dict(again["model_state"])
    opt2.load_state_dict(again["optim_state"])


def test_records_aligned_and_stored(tmp_path):
    path = tmp_path / "x.pt"
    ember.save([ember.ones(3, dtype=ember.float64), ember.arange(5), ember.zeros(7)], path)
    with open(path, "rb") as f, zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            f.seek(info.header_offset + 26)
            n, m = np.frombuffer(f.read(4), "<u2")
            if "/data/" in info.filename:
                assert (info.header_offset + 30 + n + m) % 64 == 0
        assert zf.read("x/byteorder") == sys.byteorder.encode()


def test_storages_save_and_load():
    t = torch.arange(4, dtype=torch.int32)
    got = torch_to_ember([t.untyped_storage(), torch.arange(4)[1:]])
    # torch loads a saved UntypedStorage as a uint8 TypedStorage; so does ember
    assert isinstance(got[0], ember.serialization.TypedStorage) and got[0].dtype is ember.uint8
    assert got[0].nbytes() == 16 and got[1].tolist() == [1, 2, 3]
    e = ember.arange(4, dtype=ember.int32)
    back = ember_to_torch(e.untyped_storage())
    assert isinstance(back, torch.storage.TypedStorage) and back.nbytes() == 16
    assert back.tolist() == list(np.arange(4, dtype=np.int32).view(np.uint8))


def test_different_dtypes_on_one_storage_refused():
    base = ember.zeros(4)
    with pytest.raises(RuntimeError, match="different types"):
        ember.save([base, base.view(ember.int32)], io.BytesIO())


def test_plain_pickle_round_trip():
    from ember.nn import Parameter
    t = ember.arange(6.).reshape(2, 3)
    for obj in (t, t.t(), Parameter(ember.ones(2)), ember.zeros(0), ember.tensor(3)):
        r = pickle.loads(pickle.dumps(obj))
        assert type(r) is type(obj) and r.shape == obj.shape and r.stride() == obj.stride()
        np.testing.assert_array_equal(r.detach()._data, obj.detach()._data)
    a, b = pickle.loads(pickle.dumps([t, t[1]]))
    assert a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


# ---------------------------------------------------------------------------------------------
# Legacy format, map_location, mmap, file objects

def test_legacy_format_from_torch():
    tt = torch.arange(12.).reshape(3, 4)
    obj = {"a": tt, "b": tt[1:, ::2], "c": torch.ones(2, dtype=torch.int16),
           "p": torch.nn.Parameter(torch.zeros(2))}
    got = torch_to_ember(obj, _use_new_zipfile_serialization=False)
    for k in obj:
        same(got[k].detach(), obj[k].detach())
    assert got["a"].untyped_storage().data_ptr() == got["b"].untyped_storage().data_ptr()


def test_legacy_format_from_ember():
    e = ember.arange(12.).reshape(3, 4)
    b = io.BytesIO()
    ember.save({"a": e, "b": e[1:, ::2]}, b, _use_new_zipfile_serialization=False)
    b.seek(0)
    back = torch.load(b, weights_only=True)
    same(e[1:, ::2], back["b"])
    b.seek(0)
    again = ember.load(b)
    same(again["b"], back["b"])


@pytest.mark.parametrize("map_location", ["cpu", ember.device("cpu"), {"cpu": "cpu"},
                                          lambda storage, loc: storage,
                                          lambda storage, loc: None])
def test_map_location_variants(map_location):
    b = io.BytesIO()
    torch.save({"w": torch.arange(3.)}, b)
    b.seek(0)
    got = ember.load(b, map_location=map_location)
    np.testing.assert_array_equal(got["w"]._data, [0, 1, 2])


def _cuda_checkpoint():
    """A zip checkpoint whose storage is tagged 'cuda:0' (written without a GPU)."""
    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, torch.UntypedStorage):
                return ("storage", torch.FloatStorage, "0", "cuda:0", 3)
            return None
    t = torch.arange(3.)
    pkl = io.BytesIO()
    P(pkl, 2).dump([_Rebuild(t.untyped_storage())])
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as zf:
        zf.writestr("archive/data.pkl", pkl.getvalue())
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/data/0", t.numpy().tobytes())
        zf.writestr("archive/version", "3\n")
    return b.getvalue()


class _Rebuild:
    def __init__(self, storage):
        self.storage = storage

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, 0, (3,), (1,), False, collections.OrderedDict()))


def test_cuda_checkpoint_needs_map_location():
    data = _cuda_checkpoint()
    with pytest.raises(RuntimeError, match="map_location") as te:
        torch.load(io.BytesIO(data), weights_only=True)
    with pytest.raises(RuntimeError, match="map_location") as ee:
        ember.load(io.BytesIO(data))
    assert "CUDA device" in str(ee.value) and "CUDA device" in str(te.value)
    with pytest.raises(RuntimeError, match="map_location"):
        ember.load(io.BytesIO(data), map_location="cuda")
    for ml in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        got = ember.load(io.BytesIO(data), map_location=ml)
        np.testing.assert_array_equal(got[0]._data, [0, 1, 2])
        tgot = torch.load(io.BytesIO(data), weights_only=True,
                          map_location=ml if not isinstance(ml, ember.device) else "cpu")
        np.testing.assert_array_equal(tgot[0].numpy(), [0, 1, 2])


def test_mmap(tmp_path):
    path = tmp_path / "m.pt"
    torch.save({"w": torch.arange(1000.), "v": torch.arange(1000.)[10:20]}, path)
    got = ember.load(path, mmap=True)
    np.testing.assert_array_equal(got["w"]._data, np.arange(1000.))
    assert got["v"].storage_offset() == 10
    root = got["w"]._data.base
    while isinstance(root, np.ndarray):
        root = root.base
    assert isinstance(root, memoryview) and type(root.obj).__name__ == "mmap"
    got["w"][0] = 5.0                 # copy-on-write: the file keeps its data
    assert torch.load(path)["w"][0].item() == 0.0
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)
    legacy = tmp_path / "l.pt"
    torch.save(torch.ones(2), legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="mmap"):
        ember.load(legacy, mmap=True)


def test_open_files_and_pathlike(tmp_path):
    path = tmp_path / "f.pt"
    with open(path, "wb") as f:
        ember.save({"a": ember.ones(2)}, f)
    with open(path, "rb") as f:
        assert ember.load(f)["a"].tolist() == [1.0, 1.0]
    assert torch.load(str(path))["a"].tolist() == [1.0, 1.0]
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "archive/data.pkl"


def test_big_endian_byteorder():
    b = io.BytesIO()
    torch.save(torch.arange(3, dtype=torch.int32), b)
    src = zipfile.ZipFile(io.BytesIO(b.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in src.namelist():
            data = src.read(n)
            if n.endswith("byteorder"):
                data = b"big"
            elif n.endswith("data/0"):
                data = np.arange(3, dtype=">i4").tobytes()
            zf.writestr(n, data)
    np.testing.assert_array_equal(ember.load(io.BytesIO(out.getvalue()))._data, [0, 1, 2])
    np.testing.assert_array_equal(torch.load(io.BytesIO(out.getvalue())).numpy(), [0, 1, 2])


# ---------------------------------------------------------------------------------------------
# Security: weights_only=True refuses what it does not know, and runs nothing

SENTINEL = []


def _sentinel(*args):
    SENTINEL.append(args)
    return "ran"


class _Call:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _zip_with_pickle(pkl):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/version", "3\n")
    return b.getvalue()


def _malicious_corpus(tmp_path):
    marker = tmp_path / "pwned"
    shell = f"touch {marker}"
    raw_global = b"\x80\x02c" + b"os\nsystem\n" + b"X" + len(shell).to_bytes(4, "little") + \
        shell.encode() + b"\x85R."
    return marker, {
        "os.system": pickle.dumps(_Call(os.system, shell), 2),
        "eval": pickle.dumps(_Call(eval, f"open({str(marker)!r}, 'w')"), 2),
        "builtins.exec": pickle.dumps(_Call(exec, f"open({str(marker)!r}, 'w')"), 2),
        "sentinel": pickle.dumps(_Call(_sentinel, 1), 2),
        "nested": pickle.dumps({"ok": [1, {"deep": (_Call(_sentinel, 2),)}]}, 2),
        "raw GLOBAL": raw_global,
        "protocol 4": pickle.dumps(_Call(_sentinel, 3), 4),
        "subprocess": pickle.dumps(_Call(subprocess.call, ["touch", str(marker)]), 2),
        "numpy attribute": pickle.dumps(np.ones(2), 2),
        "getattr": pickle.dumps(_Call(getattr, str, "join"), 2),
    }


def test_malicious_pickles_refused(tmp_path):
    marker, corpus = _malicious_corpus(tmp_path)
    for name, pkl in corpus.items():
        for data in (pkl, _zip_with_pickle(pkl)):
            with pytest.raises(pickle.UnpicklingError) as e:   # raw: read as the legacy format
                ember.load(io.BytesIO(data))
            msg = str(e.value)
            assert "weights_only" in msg and "add_safe_globals" in msg, (name, msg)
            assert "GLOBAL" in msg
    assert not marker.exists() and SENTINEL == []


def test_refusal_names_the_global(tmp_path):
    _, corpus = _malicious_corpus(tmp_path)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL (posix|os)\.system"):
        ember.load(io.BytesIO(_zip_with_pickle(corpus["os.system"])))
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL builtins\.eval|GLOBAL eval"):
        ember.load(io.BytesIO(_zip_with_pickle(corpus["eval"])))


def test_add_safe_globals_admits_exactly_what_it_names(tmp_path):
    data = _zip_with_pickle(pickle.dumps([_Call(_sentinel, 5), _Call(_sentinel, 6)], 2))
    with ser.safe_globals([_sentinel]):
        assert ember.load(io.BytesIO(data)) == ["ran", "ran"]
        assert ser.get_safe_globals() == [_sentinel]
    assert ser.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(data))
    other = _zip_with_pickle(pickle.dumps(_Call(os.getcwd), 2))
    ser.add_safe_globals([_sentinel])
    try:
        with pytest.raises(pickle.UnpicklingError, match="getcwd"):
            ember.load(io.BytesIO(other))
    finally:
        ser.clear_safe_globals()
    assert SENTINEL == [(5,), (6,)]
    SENTINEL.clear()


def test_weights_only_false_loads_objects():
    data = _zip_with_pickle(pickle.dumps({"x": collections.Counter("aab"),
                                          "f": np.arange(3)}, 2))
    got = ember.load(io.BytesIO(data), weights_only=False)
    assert got["x"]["a"] == 2 and got["f"].tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(io.BytesIO(data), pickle_module=pickle)
    assert ember.load(io.BytesIO(data), pickle_module=pickle, weights_only=False)["x"]["b"] == 1


# ---------------------------------------------------------------------------------------------
# Faults

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "nope.pt")


def test_truncated_file(tmp_path):
    path = tmp_path / "t.pt"
    ember.save({"w": ember.ones(1000)}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, 10, len(data) - 5):
        p = tmp_path / f"cut{cut}.pt"
        p.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match=str(p.name)):
            ember.load(p)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(RuntimeError, match="empty"):
        ember.load(tmp_path / "empty.pt")


def _rewrite(data, drop=None, replace=None):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in src.namelist():
            if drop and n.endswith(drop):
                continue
            zf.writestr(n, (replace or {}).get(n.split("/", 1)[1], src.read(n)))
    return out.getvalue()


def test_missing_record_and_bad_byteorder():
    b = io.BytesIO()
    ember.save({"w": ember.ones(3)}, b)
    with pytest.raises(RuntimeError, match="data/0"):
        ember.load(io.BytesIO(_rewrite(b.getvalue(), drop="data/0")))
    with pytest.raises(RuntimeError, match="data.pkl"):
        ember.load(io.BytesIO(_rewrite(b.getvalue(), drop="data.pkl")))
    with pytest.raises(RuntimeError, match="endianness"):
        ember.load(io.BytesIO(_rewrite(b.getvalue(), replace={"byteorder": b"middle"})))
    with pytest.raises(RuntimeError, match="corrupt"):
        ember.load(io.BytesIO(_rewrite(b.getvalue(), replace={"data.pkl": b"\x80\x02}q\x00("})))
    with pytest.raises(RuntimeError, match="bytes"):
        ember.load(io.BytesIO(_rewrite(b.getvalue(), replace={"data/0": b"\x00" * 4})))


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "junk.pt"
    p.write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(RuntimeError, match="junk.pt"):
        ember.load(p)


def test_interrupted_save_keeps_old_file(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"version": "old", "w": ember.ones(3)}, path)
    before = path.read_bytes()
    code = (f"import sys; sys.path.insert(0, {os.getcwd()!r}); import ember, numpy as np\n"
            f"big = ember.from_numpy(np.ones(60_000_000, np.float32))\n"
            f"print('go', flush=True)\n"
            f"ember.save({{'version': 'new', 'w': big}}, {str(path)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"go"
    deadline = time.time() + 30
    while time.time() < deadline:
        tmps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        if tmps and os.path.getsize(tmp_path / tmps[0]) > 0:
            break
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tmps, "the writer never created its temporary file"
    assert path.read_bytes() == before
    assert ember.load(path)["version"] == "old"


def test_user_data_that_looks_like_a_global_and_protocol_4():
    tricky = "cember._dtype\nfloat32\n"
    obj = {"s": tricky, "b": tricky.encode(), "d": ember.float32, "t": ember.ones(2)}
    back = ember_to_torch(obj)
    assert back["s"] == tricky and back["b"] == tricky.encode() and back["d"] is torch.float32
    only_text = ember_to_torch({"s": tricky})       # not emitted as a global: left alone
    assert only_text["s"] == tricky
    for proto in (3, 4, 5):   # torch's weights-only unpickler reads protocols <= 3 only
        b = io.BytesIO()
        ember.save({"d": ember.bfloat16, "t": ember.arange(3)[1:]}, b, pickle_protocol=proto)
        b.seek(0)
        back = torch.load(b, weights_only=proto <= 3)
        b.seek(0)
        assert ember.load(b)["t"].tolist() == [1, 2]
        assert back["d"] is torch.bfloat16 and back["t"].tolist() == [1, 2]
        assert back["t"].storage_offset() == 1


def _data_pkl(raw):
    z = zipfile.ZipFile(io.BytesIO(raw))
    return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


def test_pickle_matches_torch_opcode_for_opcode():
    """save's fast pickling path (dispatch-table reduction of tensors, Parameters and
    OrderedDicts) writes the same pickle as torch.save, memo indices included."""
    def build(t):
        sd = collections.OrderedDict()
        base = t.arange(12, dtype=t.float32).reshape(3, 4)
        sd["a"], sd["b"], sd["c"] = base, base[:, 1:3], base.t()
        sd["d"] = t.tensor(3.5, dtype=t.float64)
        sd["e"] = t.ones(2, dtype=t.bfloat16)
        sd["f"] = t.nn.Parameter(t.ones(2))
        sd["g"], sd["h"] = t.empty(0, 3), t.ones(3, dtype=t.uint16)
        sd["i"] = t.ones(2, requires_grad=True)
        sd["j"] = [sd["a"], {"k": collections.OrderedDict(x=1)}]
        sd._metadata = collections.OrderedDict({"": {"version": 1}})
        return sd
    got = []
    for lib in (torch, ember):
        buf = io.BytesIO()
        lib.save(build(lib), buf)
        got.append(_data_pkl(buf.getvalue()))
    assert got[0] == got[1]


def test_loaded_tensors_get_their_own_backward_hooks_dict():
    buf = io.BytesIO()
    ember.save([ember.ones(2), ember.ones(3)], buf)
    a, b = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    assert a._backward_hooks is not b._backward_hooks


def test_large_records_checksummed_in_helper_thread(tmp_path):
    """Checkpoints over 16 MB checksum records in a helper thread: CRCs still right."""
    big = [ember.from_numpy(np.full(3_000_000, i, np.float32)) for i in range(2)]
    path = tmp_path / "big.pt"
    ember.save({"x": big[0], "y": big[1], "s": ember.ones(3)}, path)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    back = torch.load(path, weights_only=True)
    assert back["y"][0].item() == 1.0 and back["x"].shape == (3_000_000,)


def test_overwrite_starts_writeback_in_order(tmp_path, monkeypatch):
    """Saving over an existing file hands the written bytes to the disk as they are written
    (contiguous ranges from 0, each ending after a record); the file stays a valid zip that
    torch reads. A fresh path starts no writeback (the rename will not flush it)."""
    calls = []
    real = ser._writeback_starter

    def spy(fd):
        start = real(fd)

        def writeback(offset, size):
            calls.append((offset, size))
            if start is not None:
                start(offset, size)
        return writeback
    monkeypatch.setattr(ser, "_writeback_starter", spy)
    sd = {f"w{i}": ember.from_numpy(np.full(1_000_000 + i, i, np.float32)) for i in range(12)}
    sd["small"] = ember.arange(5)
    path = tmp_path / "ckpt.pt"
    ember.save(sd, path)
    assert calls == []
    ember.save(sd, path)
    assert calls and calls[0][0] == 0
    for (o1, s1), (o2, _) in zip(calls, calls[1:]):
        assert o1 + s1 == o2
    assert calls[-1][0] + calls[-1][1] <= path.stat().st_size
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    back = torch.load(path, weights_only=True)
    assert back["w11"].shape == (1_000_011,) and back["w11"][0].item() == 11.0
    assert back["small"].tolist() == list(range(5))
