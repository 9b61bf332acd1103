#!/usr/bin/env python3
"""An independent PyTorch build of SqueezeNext in pytorchcv's layout, written from SQUEEZENEXT.md section 9.

For one configuration it makes a network with fixed-seed weights and non-trivial BatchNorm statistics, and saves
  OUT/<config>.pth     the state dict, as torch.save writes it (the format of the published weights)
  OUT/<config>.io.pth  {"inputs": [N, 3, 224, 224], "logits": [N, 1000]}, the network's answer in eval mode
so that the C# import can be checked against it.

usage: pytorchcv_reference.py CONFIG OUT [--seed 7] [--images 3]
       pytorchcv_reference.py CONFIG OUT --check FILE
The second form loads FILE (a state dict another program wrote, such as `sqnxt export`) strictly into the same
layout and compares its logits on OUT/<config>.io.pth's inputs with the saved ones; exit 1 when they differ.
"""
import argparse
import math
import os

import torch
from torch import nn

# name -> (width multiplier, blocks per stage)
CONFIGS = {
    "sqnxt23_w1": (1.0, [6, 6, 8, 1]),
    "sqnxt23_w3d2": (1.5, [6, 6, 8, 1]),
    "sqnxt23_w2": (2.0, [6, 6, 8, 1]),
    "sqnxt23v5_w1": (1.0, [2, 4, 14, 1]),
    "sqnxt23v5_w3d2": (1.5, [2, 4, 14, 1]),
    "sqnxt23v5_w2": (2.0, [2, 4, 14, 1]),
}


class ConvBnRelu(nn.Module):
    """A biased convolution, BatchNorm (eps 1e-5) and ReLU; children named conv and bn as in the state dicts."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=True)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Unit(nn.Module):
    """conv1..conv5 with the divisor rule, plus identity_conv at stride 2 or when narrowing; ReLU after the add."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        if stride == 2:
            divisor = 1
        elif cin > cout:
            divisor = 4
        else:
            divisor = 2
        self.projects = stride == 2 or cin > cout
        wide, narrow = cin // divisor, cin // (2 * divisor)
        self.conv1 = ConvBnRelu(cin, wide, 1, stride=stride)
        self.conv2 = ConvBnRelu(wide, narrow, 1)
        self.conv3 = ConvBnRelu(narrow, wide, (1, 3), padding=(0, 1))
        self.conv4 = ConvBnRelu(wide, wide, (3, 1), padding=(1, 0))
        self.conv5 = ConvBnRelu(wide, cout, 1)
        if self.projects:
            self.identity_conv = ConvBnRelu(cin, cout, 1, stride=stride)

    def forward(self, x):
        shortcut = self.identity_conv(x) if self.projects else x
        y = self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))
        return torch.relu(y + shortcut)


class InitBlock(nn.Module):
    def __init__(self, cout):
        super().__init__()
        self.conv = ConvBnRelu(3, cout, 7, stride=2, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)

    def forward(self, x):
        return self.pool(self.conv(x))


class SqueezeNextPytorchcv(nn.Module):
    def __init__(self, width, blocks, classes=1000):
        super().__init__()
        scale = lambda c: int(round(c * width))
        self.features = nn.Sequential()
        channels = scale(64)
        self.features.add_module("init_block", InitBlock(channels))
        for i, (stage_width, count) in enumerate(zip([32, 64, 128, 256], blocks)):
            stage = nn.Sequential()
            for j in range(count):
                stride = 2 if j == 0 and i > 0 else 1
                stage.add_module(f"unit{j + 1}", Unit(channels, scale(stage_width), stride))
                channels = scale(stage_width)
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("final_block", ConvBnRelu(channels, scale(128), 1))
        self.features.add_module("final_pool", nn.AvgPool2d(7, stride=1))
        self.output = nn.Linear(scale(128), classes)

    def forward(self, x):
        return self.output(torch.flatten(self.features(x), 1))


def initialise(model, generator):
    """Kaiming weights, random biases and BN affine terms, and BN statistics measured on random images.

    Measured statistics keep activations in range through the 23 blocks, so the logits depend on the input; random
    statistics would let them grow layer by layer until every image gave nearly the same answer.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.weight.shape[0] * module.weight.shape[2] * module.weight.shape[3]
                module.weight.normal_(0, math.sqrt(2.0 / fan_out), generator=generator)
                module.bias.uniform_(-0.1, 0.1, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.uniform_(-0.2, 0.2, generator=generator)
                module.momentum = None  # a plain average over the calibration batches
            elif isinstance(module, nn.Linear):
                module.weight.normal_(0, 0.05, generator=generator)
                module.bias.uniform_(-0.1, 0.1, generator=generator)
        model.train()
        for _ in range(2):
            model(torch.randn(4, 3, 224, 224, generator=generator))
        # Channels that the noise barely excites would divide by almost nothing and amplify rounding differences
        # between two correct float32 implementations beyond any fixed tolerance; keep every variance well away from 0.
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_var.add_(torch.empty_like(module.running_var).uniform_(0.2, 0.5, generator=generator))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config", choices=sorted(CONFIGS))
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--check", metavar="FILE")
    args = parser.parse_args()

    torch.set_num_threads(1)
    if args.check:
        width, blocks = CONFIGS[args.config]
        model = SqueezeNextPytorchcv(width, blocks)
        model.load_state_dict(torch.load(args.check), strict=True)
        model.eval()
        saved = torch.load(os.path.join(args.out, f"{args.config}.io.pth"))
        with torch.no_grad():
            difference = (model(saved["inputs"]) - saved["logits"]).abs().max().item() / saved["logits"].abs().max().item()
        print(f"{args.config}: {args.check} loads strictly; logits differ by {difference:.2e} of the largest")
        raise SystemExit(0 if difference < 1e-5 else 1)

    generator = torch.Generator().manual_seed(args.seed)
    width, blocks = CONFIGS[args.config]
    model = SqueezeNextPytorchcv(width, blocks)
    initialise(model, generator)
    model.eval()
    inputs = torch.randn(args.images, 3, 224, 224, generator=generator)
    with torch.no_grad():
        logits = model(inputs)

    os.makedirs(args.out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.out, f"{args.config}.pth"))
    torch.save({"inputs": inputs, "logits": logits}, os.path.join(args.out, f"{args.config}.io.pth"))
    print(f"{args.config}: {sum(p.numel() for p in model.parameters())} parameters, logits {list(logits.shape)}")


if __name__ == "__main__":
    main()
