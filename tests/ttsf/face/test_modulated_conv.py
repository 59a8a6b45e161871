"""ModulatedConv2d: modulation on the activations (one shared-weight convolution) gives the
fused form's numbers (per-sample modulated weights, grouped convolution)."""

import pytest
import torch

from ttsf.face.layers import ModulatedConv2d


@pytest.mark.parametrize("kernel,demodulate,upsample", [(3, True, False), (3, True, True), (1, False, False),
                                                         (3, False, False)])
def test_batched_modulation_equals_the_grouped_form(kernel, demodulate, upsample):
    torch.manual_seed(0)
    conv = ModulatedConv2d(6, 5, kernel, style_dim=8, demodulate=demodulate, upsample=upsample)
    with torch.no_grad():
        conv.modulation.bias.normal_()  # per-sample scales far from 1, some negative
    x, style = torch.randn(4, 6, 7, 7), torch.randn(4, 8)
    fast, grouped = conv(x, style), conv.forward_grouped(x, style)
    assert fast.shape == grouped.shape == (4, 5, 14 if upsample else 7, 14 if upsample else 7)
    torch.testing.assert_close(fast, grouped, rtol=1e-5, atol=1e-5)
    # each sample is its own: a batch of one gives the same rows
    torch.testing.assert_close(conv(x[2:3], style[2:3]), fast[2:3], rtol=1e-5, atol=1e-5)


def test_batched_modulation_has_the_grouped_gradients():
    torch.manual_seed(1)
    conv = ModulatedConv2d(4, 3, 3, style_dim=5, upsample=True)
    x, style = torch.randn(2, 4, 5, 5), torch.randn(2, 5)
    grads = []
    for forward in (conv.forward, conv.forward_grouped):
        conv.zero_grad()
        forward(x, style).square().sum().backward()
        grads.append([p.grad.clone() for p in conv.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
