#!/usr/bin/env python3
"""PyTorch reference for greenml's CNN engine.

The C engine must reproduce the sixteen CIFAR-10 networks of the
kuangliu/pytorch-cifar collection exactly: the same layers, the same parameter
tensors in the same order (so that a state_dict of either loads into the
other), the same forward computation. This file defines those sixteen networks
independently and derives from them the figures the C side is checked
against.

Usage (Debian's python3 with python3-torch):

    /usr/bin/python3 scripts/torch_reference.py characteristics \
        --out tests/fixtures/torch_models.json
    /usr/bin/python3 scripts/torch_reference.py golden    # tests/fixtures/golden_*

Every network takes a N x 3 x 32 x 32 float tensor and returns N x 10 logits.
docs/models.md describes each architecture in prose for the C implementers.
"""

import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = (3, 32, 32)
NUM_CLASSES = 10


# ---------------------------------------------------------------------------
# Small builders shared by the networks.
# ---------------------------------------------------------------------------


def conv2d(cin, cout, k, stride=1, pad=None, groups=1, bias=False):
    """A square convolution; padding defaults to 'same' for odd k."""
    if pad is None:
        pad = (k - 1) // 2
    return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=pad,
                     groups=groups, bias=bias)


def conv_then_bn(cin, cout, stride):
    """1x1 projection followed by batch norm (the usual shortcut)."""
    return nn.Sequential(conv2d(cin, cout, 1, stride=stride, pad=0),
                         nn.BatchNorm2d(cout))


def swish(t):
    return t * torch.sigmoid(t)


def global_avg(t):
    """Average over the whole spatial extent, flattened to N x C."""
    return torch.flatten(F.adaptive_avg_pool2d(t, 1), 1)


def stage_strides(depths, first_strides):
    """Per stage, one stride per block: the stage's first stride, then 1s."""
    out = []
    for depth, s in zip(depths, first_strides):
        out.append([s] + [1] * (depth - 1))
    return out


# ---------------------------------------------------------------------------
# LeNet
# ---------------------------------------------------------------------------


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 6, 5, pad=0, bias=True)
        self.conv2 = conv2d(6, 16, 5, pad=0, bias=True)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, NUM_CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


# ---------------------------------------------------------------------------
# VGG16 (with batch norm; conv layers keep their bias)
# ---------------------------------------------------------------------------

VGG16_PLAN = (64, 64, "pool", 128, 128, "pool", 256, 256, 256, "pool",
              512, 512, 512, "pool", 512, 512, 512, "pool")


class VGG16(nn.Module):
    def __init__(self):
        super().__init__()
        seq = []
        channels = 3
        for item in VGG16_PLAN:
            if item == "pool":
                seq.append(nn.MaxPool2d(2, 2))
                continue
            seq += [conv2d(channels, item, 3, bias=True), nn.BatchNorm2d(item),
                    nn.ReLU(inplace=True)]
            channels = item
        seq.append(nn.AvgPool2d(1, 1))  # a no-op kept so module indices match
        self.features = nn.Sequential(*seq)
        self.classifier = nn.Linear(512, NUM_CLASSES)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


# ---------------------------------------------------------------------------
# Residual families: ResNet18, PreActResNet18, SENet18
# ---------------------------------------------------------------------------


class PostActBasic(nn.Module):
    """conv-bn-relu, conv-bn, add shortcut, relu."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv2d(cin, cout, 3, stride=stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv2d(cout, cout, 3)
        self.bn2 = nn.BatchNorm2d(cout)
        projected = stride != 1 or cin != cout
        self.shortcut = conv_then_bn(cin, cout, stride) if projected else nn.Identity()

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class PreActBasic(nn.Module):
    """bn-relu first; the projection (a bare 1x1 conv) reads the activated input.

    With se=True this is SENet18's block: a squeeze-excitation gate (two 1x1
    convs with bias, reduction 16) scales the residual branch before the add.
    """

    def __init__(self, cin, cout, stride, se=False):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv2d(cin, cout, 3, stride=stride)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = conv2d(cout, cout, 3)
        self.projected = stride != 1 or cin != cout
        if self.projected:
            self.shortcut = nn.Sequential(conv2d(cin, cout, 1, stride=stride, pad=0))
        self.with_se = se
        if se:
            self.fc1 = conv2d(cout, cout // 16, 1, pad=0, bias=True)
            self.fc2 = conv2d(cout // 16, cout, 1, pad=0, bias=True)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        skip = self.shortcut(a) if self.projected else x
        y = self.conv1(a)
        y = self.conv2(F.relu(self.bn2(y)))
        if self.with_se:
            g = F.avg_pool2d(y, y.size(2))
            g = torch.sigmoid(self.fc2(F.relu(self.fc1(g))))
            y = y * g
        return y + skip


class FourStageNet(nn.Module):
    """3x3 stem (64), four stages of two blocks (64/128/256/512, strides
    1/2/2/2), 4x4 average pool, linear 512->10."""

    STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))

    def __init__(self, make_block, stem_bn):
        super().__init__()
        self.stem_bn = stem_bn
        self.conv1 = conv2d(3, 64, 3)
        if stem_bn:
            self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (cout, stride) in enumerate(self.STAGES, start=1):
            blocks = [make_block(cin, cout, stride), make_block(cout, cout, 1)]
            setattr(self, "layer%d" % i, nn.Sequential(*blocks))
            cin = cout
        self.linear = nn.Linear(512, NUM_CLASSES)

    def forward(self, x):
        x = self.conv1(x)
        if self.stem_bn:
            x = F.relu(self.bn1(x))
        for i in range(1, 5):
            x = getattr(self, "layer%d" % i)(x)
        x = F.avg_pool2d(x, 4)
        return self.linear(torch.flatten(x, 1))


def ResNet18():
    return FourStageNet(PostActBasic, stem_bn=True)


def PreActResNet18():
    return FourStageNet(PreActBasic, stem_bn=False)


def SENet18():
    return FourStageNet(lambda cin, cout, s: PreActBasic(cin, cout, s, se=True),
                        stem_bn=True)


# ---------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------

# (in, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5" (two 3x3), pool proj)
INCEPTION_PLAN = {
    "a3": (192, 64, 96, 128, 16, 32, 32),
    "b3": (256, 128, 128, 192, 32, 96, 64),
    "a4": (480, 192, 96, 208, 16, 48, 64),
    "b4": (512, 160, 112, 224, 24, 64, 64),
    "c4": (512, 128, 128, 256, 24, 64, 64),
    "d4": (512, 112, 144, 288, 32, 64, 64),
    "e4": (528, 256, 160, 320, 32, 128, 128),
    "a5": (832, 256, 160, 320, 32, 128, 128),
    "b5": (832, 384, 192, 384, 48, 128, 128),
}


def cbr(cin, cout, k):
    """conv (with bias) + bn + relu as three Sequential entries."""
    return [conv2d(cin, cout, k, bias=True), nn.BatchNorm2d(cout), nn.ReLU(True)]


class Inception(nn.Module):
    def __init__(self, cin, n1, r3, n3, r5, n5, npool):
        super().__init__()
        self.b1 = nn.Sequential(*cbr(cin, n1, 1))
        self.b2 = nn.Sequential(*(cbr(cin, r3, 1) + cbr(r3, n3, 3)))
        self.b3 = nn.Sequential(*(cbr(cin, r5, 1) + cbr(r5, n5, 3) + cbr(n5, n5, 3)))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *cbr(cin, npool, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre_layers = nn.Sequential(*cbr(3, 192, 3))
        for name, spec in INCEPTION_PLAN.items():
            setattr(self, name, Inception(*spec))
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avgpool = nn.AvgPool2d(8, stride=1)
        self.linear = nn.Linear(1024, NUM_CLASSES)

    def forward(self, x):
        x = self.pre_layers(x)
        x = self.b3(self.a3(x))
        x = self.maxpool(x)
        for name in ("a4", "b4", "c4", "d4", "e4"):
            x = getattr(self, name)(x)
        x = self.maxpool(x)
        x = self.b5(self.a5(x))
        x = self.avgpool(x)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# DenseNet121 (growth 32, blocks 6/12/24/16, compression 0.5)
# ---------------------------------------------------------------------------


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv2d(cin, 4 * growth, 1, pad=0)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = conv2d(4 * growth, growth, 3)

    def forward(self, x):
        y = self.conv1(F.relu(self.bn1(x)))
        y = self.conv2(F.relu(self.bn2(y)))
        return torch.cat([y, x], 1)  # new features first


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = conv2d(cin, cout, 1, pad=0)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet121(nn.Module):
    GROWTH = 32
    BLOCKS = (6, 12, 24, 16)

    def __init__(self):
        super().__init__()
        g = self.GROWTH
        c = 2 * g
        self.conv1 = conv2d(3, c, 3)
        for i, n in enumerate(self.BLOCKS, start=1):
            setattr(self, "dense%d" % i,
                    nn.Sequential(*[DenseLayer(c + j * g, g) for j in range(n)]))
            c += n * g
            if i < len(self.BLOCKS):
                reduced = int(math.floor(c * 0.5))
                setattr(self, "trans%d" % i, Transition(c, reduced))
                c = reduced
        self.bn = nn.BatchNorm2d(c)
        self.linear = nn.Linear(c, NUM_CLASSES)

    def forward(self, x):
        x = self.conv1(x)
        for i in range(1, 4):
            x = getattr(self, "trans%d" % i)(getattr(self, "dense%d" % i)(x))
        x = self.dense4(x)
        x = F.avg_pool2d(F.relu(self.bn(x)), 4)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# ResNeXt29_2x64d
# ---------------------------------------------------------------------------


class GroupedBottleneck(nn.Module):
    """1x1 -> grouped 3x3 -> 1x1 (x2 width), post-activation residual.

    Shared by ResNeXt (groups = cardinality, width = cardinality * d,
    output = 2 * width) and RegNetX (groups = width / group width, output =
    width, bottleneck ratio 1)."""

    def __init__(self, cin, width, cout, groups, stride):
        super().__init__()
        self.conv1 = conv2d(cin, width, 1, pad=0)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv2d(width, width, 3, stride=stride, groups=groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv2d(width, cout, 1, pad=0)
        self.bn3 = nn.BatchNorm2d(cout)
        projected = stride != 1 or cin != cout
        self.shortcut = conv_then_bn(cin, cout, stride) if projected else nn.Identity()

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + self.shortcut(x))


class ResNeXt29_2x64d(nn.Module):
    CARDINALITY = 2
    BASE_WIDTH = 64  # per-group width of stage 1; doubles every stage

    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 64, 1, pad=0)  # a 1x1 stem
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        d = self.BASE_WIDTH
        for i, strides in enumerate(stage_strides((3, 3, 3), (1, 2, 2)), start=1):
            width = self.CARDINALITY * d
            blocks = []
            for s in strides:
                blocks.append(GroupedBottleneck(cin, width, 2 * width, self.CARDINALITY, s))
                cin = 2 * width
            setattr(self, "layer%d" % i, nn.Sequential(*blocks))
            d *= 2
        self.linear = nn.Linear(cin, NUM_CLASSES)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.avg_pool2d(x, 8)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# MobileNet (v1)
# ---------------------------------------------------------------------------

# (output channels, stride of the depthwise conv)
MOBILENET_PLAN = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                  (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2),
                  (1024, 1))


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv2d(cin, cin, 3, stride=stride, groups=cin)
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv2 = conv2d(cin, cout, 1, pad=0)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))


class MobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 32, 3)
        self.bn1 = nn.BatchNorm2d(32)
        blocks, cin = [], 32
        for cout, s in MOBILENET_PLAN:
            blocks.append(DepthwiseSeparable(cin, cout, s))
            cin = cout
        self.layers = nn.Sequential(*blocks)
        self.linear = nn.Linear(1024, NUM_CLASSES)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        x = F.avg_pool2d(x, 2)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# MobileNetV2
# ---------------------------------------------------------------------------

# (expansion, output channels, blocks, first stride)
MOBILENETV2_PLAN = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2),
                    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    """expand 1x1 -> depthwise 3x3 -> project 1x1 (linear).

    Stride 1: the output is added to the shortcut, which is the identity when
    cin == cout and a 1x1 conv + bn otherwise. Stride 2: no addition at all."""

    def __init__(self, cin, cout, expansion, stride):
        super().__init__()
        mid = cin * expansion
        self.stride = stride
        self.conv1 = conv2d(cin, mid, 1, pad=0)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = conv2d(mid, mid, 3, stride=stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = conv2d(mid, cout, 1, pad=0)
        self.bn3 = nn.BatchNorm2d(cout)
        if stride == 1 and cin != cout:
            self.shortcut = conv_then_bn(cin, cout, 1)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return y + self.shortcut(x) if self.stride == 1 else y


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 32, 3)
        self.bn1 = nn.BatchNorm2d(32)
        blocks, cin = [], 32
        for t, c, n, s in MOBILENETV2_PLAN:
            for stride in [s] + [1] * (n - 1):
                blocks.append(InvertedResidual(cin, c, t, stride))
                cin = c
        self.layers = nn.Sequential(*blocks)
        self.conv2 = conv2d(320, 1280, 1, pad=0)
        self.bn2 = nn.BatchNorm2d(1280)
        self.linear = nn.Linear(1280, NUM_CLASSES)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.avg_pool2d(x, 4)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# DPN26 (dual path network)
# ---------------------------------------------------------------------------

# per stage: (bottleneck width, residual width, dense increment, blocks, stride)
DPN26_PLAN = ((96, 256, 16, 2, 1), (192, 512, 32, 2, 2),
              (384, 1024, 24, 2, 2), (768, 2048, 128, 2, 2))


class DualPathBlock(nn.Module):
    def __init__(self, cin, width, res, dense, stride, first):
        super().__init__()
        self.res = res
        self.conv1 = conv2d(cin, width, 1, pad=0)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv2d(width, width, 3, stride=stride, groups=32)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv2d(width, res + dense, 1, pad=0)
        self.bn3 = nn.BatchNorm2d(res + dense)
        self.shortcut = conv_then_bn(cin, res + dense, stride) if first else nn.Identity()

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        s = self.shortcut(x)
        r = self.res
        merged = torch.cat([s[:, :r] + y[:, :r], s[:, r:], y[:, r:]], 1)
        return F.relu(merged)


class DPN26(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 64, 3)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (width, res, dense, n, stride) in enumerate(DPN26_PLAN, start=1):
            blocks = []
            for j in range(n):
                blocks.append(DualPathBlock(cin, width, res, dense,
                                            stride if j == 0 else 1, j == 0))
                cin = res + (j + 2) * dense
            setattr(self, "layer%d" % i, nn.Sequential(*blocks))
        self.linear = nn.Linear(cin, NUM_CLASSES)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(1, 5):
            x = getattr(self, "layer%d" % i)(x)
        x = F.avg_pool2d(x, 4)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# ShuffleNetV2 (net_size=1)
# ---------------------------------------------------------------------------

SHUFFLENETV2_WIDTHS = (116, 232, 464)
SHUFFLENETV2_REPEATS = (3, 7, 3)
SHUFFLENETV2_HEAD = 1024


def channel_shuffle(x, groups=2):
    """[N, g*k, H, W] -> view [N, g, k, H, W] -> swap g,k -> [N, k*g, H, W]."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """Stride-1 unit: the first half of the channels passes through, the
    second half goes 1x1-bn-relu, dw3x3-bn, 1x1-bn-relu; concat, shuffle."""

    def __init__(self, channels):
        super().__init__()
        c = channels // 2
        self.conv1 = conv2d(c, c, 1, pad=0)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = conv2d(c, c, 3, groups=c)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = conv2d(c, c, 1, pad=0)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x):
        c = x.size(1) // 2
        keep, work = x[:, :c], x[:, c:]
        y = F.relu(self.bn1(self.conv1(work)))
        y = self.bn2(self.conv2(y))
        y = F.relu(self.bn3(self.conv3(y)))
        return channel_shuffle(torch.cat([keep, y], 1))


class ShuffleDownUnit(nn.Module):
    """Stride-2 unit: two branches over the full input, each producing
    cout/2 channels; concat (left first), shuffle."""

    def __init__(self, cin, cout):
        super().__init__()
        half = cout // 2
        # left branch
        self.conv1 = conv2d(cin, cin, 3, stride=2, groups=cin)
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv2 = conv2d(cin, half, 1, pad=0)
        self.bn2 = nn.BatchNorm2d(half)
        # right branch
        self.conv3 = conv2d(cin, half, 1, pad=0)
        self.bn3 = nn.BatchNorm2d(half)
        self.conv4 = conv2d(half, half, 3, stride=2, groups=half)
        self.bn4 = nn.BatchNorm2d(half)
        self.conv5 = conv2d(half, half, 1, pad=0)
        self.bn5 = nn.BatchNorm2d(half)

    def forward(self, x):
        left = self.bn1(self.conv1(x))
        left = F.relu(self.bn2(self.conv2(left)))
        right = F.relu(self.bn3(self.conv3(x)))
        right = self.bn4(self.conv4(right))
        right = F.relu(self.bn5(self.conv5(right)))
        return channel_shuffle(torch.cat([left, right], 1))


class ShuffleNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 24, 3)
        self.bn1 = nn.BatchNorm2d(24)
        cin = 24
        for i, (c, n) in enumerate(zip(SHUFFLENETV2_WIDTHS, SHUFFLENETV2_REPEATS), start=1):
            units = [ShuffleDownUnit(cin, c)] + [ShuffleUnit(c) for _ in range(n)]
            setattr(self, "layer%d" % i, nn.Sequential(*units))
            cin = c
        self.conv2 = conv2d(cin, SHUFFLENETV2_HEAD, 1, pad=0)
        self.bn2 = nn.BatchNorm2d(SHUFFLENETV2_HEAD)
        self.linear = nn.Linear(SHUFFLENETV2_HEAD, NUM_CLASSES)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.avg_pool2d(x, 4)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# EfficientNetB0
# ---------------------------------------------------------------------------

# (expansion, output channels, blocks, kernel, first stride)
EFFICIENTNETB0_PLAN = ((1, 16, 1, 3, 1), (6, 24, 2, 3, 2), (6, 40, 2, 5, 2),
                       (6, 80, 3, 3, 2), (6, 112, 3, 5, 1), (6, 192, 4, 5, 2),
                       (6, 320, 1, 3, 1))
EFFICIENTNET_DROPOUT = 0.2  # before the classifier, training only
# The reference configures a drop-connect rate of 0.2 scaled by block index,
# but its block index never advances, so every block gets rate 0.0: the
# residual branch is never dropped, in training or in evaluation.
EFFICIENTNET_BLOCK_DROP_CONNECT = 0.0


class SqueezeExcite(nn.Module):
    def __init__(self, channels, squeezed, act):
        super().__init__()
        self.act = act
        self.se1 = conv2d(channels, squeezed, 1, pad=0, bias=True)
        self.se2 = conv2d(squeezed, channels, 1, pad=0, bias=True)

    def forward(self, x):
        g = F.adaptive_avg_pool2d(x, 1)
        g = torch.sigmoid(self.se2(self.act(self.se1(g))))
        return x * g


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expansion, drop_connect):
        super().__init__()
        mid = cin * expansion
        self.expands = expansion != 1
        self.drop_connect = drop_connect
        # conv1/bn1 exist even when expansion == 1, but are then never run.
        self.conv1 = conv2d(cin, mid, 1, pad=0)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = conv2d(mid, mid, k, stride=stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid)
        self.se = SqueezeExcite(mid, int(cin * 0.25), swish)
        self.conv3 = conv2d(mid, cout, 1, pad=0)
        self.bn3 = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = swish(self.bn1(self.conv1(x))) if self.expands else x
        y = swish(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(self.se(y)))
        if not self.residual:
            return y
        if self.training and self.drop_connect > 0:
            keep = 1.0 - self.drop_connect
            mask = torch.empty(y.shape[0], 1, 1, 1, dtype=y.dtype,
                               device=y.device).bernoulli_(keep)
            y = y / keep * mask
        return y + x


class EfficientNetB0(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv2d(3, 32, 3)
        self.bn1 = nn.BatchNorm2d(32)
        blocks, cin = [], 32
        for t, c, n, k, s in EFFICIENTNETB0_PLAN:
            for stride in [s] + [1] * (n - 1):
                blocks.append(MBConv(cin, c, k, stride, t, EFFICIENTNET_BLOCK_DROP_CONNECT))
                cin = c
        self.layers = nn.Sequential(*blocks)
        self.linear = nn.Linear(cin, NUM_CLASSES)

    def forward(self, x):
        x = self.layers(swish(self.bn1(self.conv1(x))))
        x = global_avg(x)
        if self.training:
            x = F.dropout(x, p=EFFICIENTNET_DROPOUT)
        return self.linear(x)


# ---------------------------------------------------------------------------
# RegNetX_200MF
# ---------------------------------------------------------------------------

REGNETX_200MF = {"depths": (1, 1, 4, 7), "widths": (24, 56, 152, 368),
                 "strides": (1, 1, 2, 2), "group_width": 8}


class RegNetX_200MF(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = REGNETX_200MF
        self.conv1 = conv2d(3, 64, 3)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        per_stage = stage_strides(cfg["depths"], cfg["strides"])
        for i, (w, strides) in enumerate(zip(cfg["widths"], per_stage), start=1):
            blocks = []
            for s in strides:
                blocks.append(GroupedBottleneck(cin, w, w, w // cfg["group_width"], s))
                cin = w
            setattr(self, "layer%d" % i, nn.Sequential(*blocks))
        self.linear = nn.Linear(cin, NUM_CLASSES)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(1, 5):
            x = getattr(self, "layer%d" % i)(x)
        return self.linear(global_avg(x))


# ---------------------------------------------------------------------------
# SimpleDLA
# ---------------------------------------------------------------------------


class Root(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = conv2d(cin, cout, 1, pad=0)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, parts):
        return F.relu(self.bn(self.conv(torch.cat(parts, 1))))


class Tree(nn.Module):
    """level 1: two residual blocks in sequence, aggregated by a root;
    level n: two level-(n-1) trees in sequence, aggregated by a root.
    The root is registered first (its parameters come first in the
    state_dict) but runs last."""

    def __init__(self, cin, cout, level, stride):
        super().__init__()
        self.root = Root(2 * cout, cout)
        if level == 1:
            self.left_tree = PostActBasic(cin, cout, stride)
            self.right_tree = PostActBasic(cout, cout, 1)
        else:
            self.left_tree = Tree(cin, cout, level - 1, stride)
            self.right_tree = Tree(cout, cout, level - 1, 1)

    def forward(self, x):
        a = self.left_tree(x)
        b = self.right_tree(a)
        return self.root([a, b])


class SimpleDLA(nn.Module):
    def __init__(self):
        super().__init__()
        def stem(cin, cout):
            return nn.Sequential(conv2d(cin, cout, 3), nn.BatchNorm2d(cout), nn.ReLU(True))
        self.base = stem(3, 16)
        self.layer1 = stem(16, 16)
        self.layer2 = stem(16, 32)
        self.layer3 = Tree(32, 64, level=1, stride=1)
        self.layer4 = Tree(64, 128, level=2, stride=2)
        self.layer5 = Tree(128, 256, level=2, stride=2)
        self.layer6 = Tree(256, 512, level=1, stride=2)
        self.linear = nn.Linear(512, NUM_CLASSES)

    def forward(self, x):
        for name in ("base", "layer1", "layer2", "layer3", "layer4", "layer5", "layer6"):
            x = getattr(self, name)(x)
        x = F.avg_pool2d(x, 4)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# PNASNetB
# ---------------------------------------------------------------------------


class GroupedKxK(nn.Module):
    """Called 'SepConv' in the reference, but only a grouped KxK conv
    (groups = input channels, so depthwise with channel multiplier
    cout/cin) followed by batch norm; no pointwise conv, no activation."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv1 = conv2d(cin, cout, k, stride=stride, groups=cin)
        self.bn1 = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn1(self.conv1(x))


class CellB(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.sep_conv1 = GroupedKxK(cin, cout, 7, stride)
        self.sep_conv2 = GroupedKxK(cin, cout, 3, stride)
        self.sep_conv3 = GroupedKxK(cin, cout, 5, stride)
        if stride == 2:
            self.conv1 = conv2d(cin, cout, 1, pad=0)
            self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv2d(2 * cout, cout, 1, pad=0)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        left = F.relu(self.sep_conv1(x) + self.sep_conv2(x))
        pooled = F.max_pool2d(x, 3, stride=self.stride, padding=1)
        if self.stride == 2:
            pooled = self.bn1(self.conv1(pooled))
        right = F.relu(pooled + self.sep_conv3(x))
        return F.relu(self.bn2(self.conv2(torch.cat([left, right], 1))))


class PNASNetB(nn.Module):
    PLANES = 32
    CELLS = 6

    def __init__(self):
        super().__init__()
        p = self.PLANES
        self.conv1 = conv2d(3, p, 3)
        self.bn1 = nn.BatchNorm2d(p)
        self.layer1 = nn.Sequential(*[CellB(p, p, 1) for _ in range(self.CELLS)])
        self.layer2 = CellB(p, 2 * p, 2)
        self.layer3 = nn.Sequential(*[CellB(2 * p, 2 * p, 1) for _ in range(self.CELLS)])
        self.layer4 = CellB(2 * p, 4 * p, 2)
        self.layer5 = nn.Sequential(*[CellB(4 * p, 4 * p, 1) for _ in range(self.CELLS)])
        self.linear = nn.Linear(4 * p, NUM_CLASSES)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(1, 6):
            x = getattr(self, "layer%d" % i)(x)
        x = F.avg_pool2d(x, 8)
        return self.linear(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# The model table, in the order the paper lists them.
# ---------------------------------------------------------------------------

MODELS = (
    ("LeNet", LeNet),
    ("VGG16", VGG16),
    ("ResNet18", ResNet18),
    ("PreActResNet18", PreActResNet18),
    ("GoogLeNet", GoogLeNet),
    ("DenseNet121", DenseNet121),
    ("ResNeXt29_2x64d", ResNeXt29_2x64d),
    ("MobileNet", MobileNet),
    ("MobileNetV2", MobileNetV2),
    ("DPN26", DPN26),
    ("ShuffleNetV2", ShuffleNetV2),
    ("SENet18", SENet18),
    ("EfficientNetB0", EfficientNetB0),
    ("RegNetX_200MF", RegNetX_200MF),
    ("SimpleDLA", SimpleDLA),
    ("PNASNetB", PNASNetB),
)


def build(name):
    for n, ctor in MODELS:
        if n == name:
            return ctor()
    raise KeyError("unknown model %r (known: %s)" % (name, ", ".join(n for n, _ in MODELS)))


# ---------------------------------------------------------------------------
# characteristics: parameter/buffer sizes and MACs
# ---------------------------------------------------------------------------

MACS_DEFINITION = (
    "MACs are counted with forward hooks during one forward pass of a 1x3x32x32 input "
    "in eval mode. Each nn.Conv2d call contributes C_out*H_out*W_out * (C_in/groups) * "
    "kh * kw; each nn.Linear call contributes in_features * out_features. Nothing else "
    "is counted: no bias additions, batch norm, activations, pooling, concatenation, "
    "channel shuffle or element-wise arithmetic (residual adds, SE scaling). A conv "
    "that exists but is not run (EfficientNetB0 layers.0.conv1) contributes nothing."
)

FIELDS_DEFINITION = {
    "params": "sum of numel() over model.parameters()",
    "trainable_params": "sum of numel() over parameters with requires_grad",
    "param_bytes": "sum of numel()*element_size() over parameters (all float32)",
    "buffer_bytes": ("sum of numel()*element_size() over model.buffers(): per BatchNorm2d "
                     "running_mean and running_var (float32) and num_batches_tracked "
                     "(int64, 8 bytes)"),
    "size_bytes": "param_bytes + buffer_bytes",
    "macs": "see macs_definition",
    "macs_per_param": "macs / params",
    "layers": "parameter tensors in model.named_parameters() order, as [name, shape]",
    "out_shapes": ("every nn.Conv2d / nn.Linear call in forward order, as [module name, "
                   "output shape without the batch dimension, MACs of that call]"),
}


def characterise(name):
    model = build(name)
    model.eval()

    calls = []
    names = {}

    def hook(module, inputs, output):
        per_sample = list(output.shape[1:])
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs = output[0].numel() * (module.in_channels // module.groups) * kh * kw
        else:
            macs = module.in_features * module.out_features
        calls.append([names[module], per_sample, macs])

    handles = []
    for mname, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            names[module] = mname
            handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        out = model(torch.zeros(1, *INPUT_SHAPE))
    for h in handles:
        h.remove()
    if tuple(out.shape) != (1, NUM_CLASSES):
        raise RuntimeError("%s: output shape %s" % (name, tuple(out.shape)))

    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    param_bytes = sum(p.numel() * p.element_size() for p in params)
    buffer_bytes = sum(b.numel() * b.element_size() for b in model.buffers())
    macs = sum(c[2] for c in calls)
    return {
        "name": name,
        "params": n_params,
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "param_bytes": param_bytes,
        "buffer_bytes": buffer_bytes,
        "size_bytes": param_bytes + buffer_bytes,
        "macs": macs,
        "macs_per_param": macs / n_params,
        "layers": [[n, list(p.shape)] for n, p in model.named_parameters()],
        "out_shapes": calls,
    }


def _is_leafish(v):
    """A scalar, or a list nesting at most scalars and lists of scalars."""
    if not isinstance(v, (list, dict)):
        return True
    if isinstance(v, dict):
        return False
    return all(not isinstance(x, (list, dict)) or
               (isinstance(x, list) and all(not isinstance(y, (list, dict)) for y in x))
               for x in v)


def to_json(v, depth=0):
    """Deterministic JSON: sorted keys, one line per layer entry, so that the
    fixture diffs line by line."""
    pad = "  " * (depth + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = ["%s%s: %s" % (pad, json.dumps(k), to_json(v[k], depth + 1))
                 for k in sorted(v)]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(v, list) and v and not _is_leafish(v):
        items = [pad + to_json(x, depth + 1) for x in v]
        return "[\n" + ",\n".join(items) + "\n" + "  " * depth + "]"
    return json.dumps(v, sort_keys=True, separators=(", ", ": "))


def cmd_characteristics(args):
    torch.manual_seed(0)
    models = [characterise(n) for n, _ in MODELS]
    doc = {
        "meta": {
            "generator": "scripts/torch_reference.py characteristics",
            "torch_version": torch.__version__,
            "input_shape": [1] + list(INPUT_SHAPE),
            "num_classes": NUM_CLASSES,
            "reference": "kuangliu/pytorch-cifar models/ (commit 49b7aa97b0c1)",
            "macs_definition": MACS_DEFINITION,
            "fields": FIELDS_DEFINITION,
        },
        "models": models,
    }
    text = to_json(doc) + "\n"
    assert json.loads(text) == doc
    if args.out == "-":
        sys.stdout.write(text)
    else:
        d = os.path.dirname(args.out)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    if not args.quiet:
        w = max(len(m["name"]) for m in models)
        print("%-*s %12s %12s %14s" % (w, "model", "params", "buffer_bytes", "macs"),
              file=sys.stderr)
        for m in models:
            print("%-*s %12d %12d %14d" % (w, m["name"], m["params"], m["buffer_bytes"],
                                           m["macs"]), file=sys.stderr)
    return 0


def args_characteristics(p):
    p.add_argument("--out", required=True,
                   help="JSON file to write ('-' for standard output)")
    p.add_argument("--quiet", action="store_true",
                   help="do not print the summary table on standard error")


# ---------------------------------------------------------------------------
# golden: fixed weights and input, logits and one SGD step (docs/models.md,
# "Golden checks")
# ---------------------------------------------------------------------------

GOLDEN_MODELS = ("LeNet", "ResNet18")
GOLDEN_N = 4
GOLDEN_LABELS = (3, 7, 0, 9)
GOLDEN_SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}
GOLDEN_SAMPLES = 8

GOLDEN_FORMULA = {
    "index": ("j: the tensor's 0-based index in named_parameters() order (parameters) "
              "or named_buffers() order (running statistics; num_batches_tracked "
              "counts); i: flat row-major element index; all arithmetic in double, "
              "rounded to float32 once"),
    "conv_linear_weight": "s * sin(0.731*i + 0.001*i*i + 1.37*j + 0.5), s = "
                          "1/sqrt(fan_in), fan_in = size(1) * kernel area",
    "conv_linear_bias": "s * cos(0.53*i + 0.001*i*i + 1.37*j), s of the layer's weight",
    "bn_weight": "1 + 0.1 * sin(0.29*i + j)",
    "bn_bias": "0.1 * cos(0.41*i + j)",
    "running_mean": "0.05 * sin(0.17*i + j)",
    "running_var": "1 + 0.2 * sin(0.11*i + j)^2",
    "input": "x[i] = sin(0.013*i + 0.001*i*i) * 1.5, N x 3 x 32 x 32 flat",
    "evaluation_order": ("left to right, every product and sum rounded to double "
                         "(no fused multiply-add): ((0.731*i + (0.001*i)*i) + "
                         "1.37*j) + 0.5"),
    "labels": list(GOLDEN_LABELS),
    "sequence": ("eval forward -> logits_eval; train forward -> logits_train (running "
                 "statistics updated), loss_train = mean cross-entropy; backward -> "
                 "grad; SGD step (lr 0.1, momentum 0.9, weight_decay 5e-4, PyTorch "
                 "semantics) -> after_step; eval forward -> logits_after_step_eval"),
    "samples": ("'first': elements 0..min(8, numel)-1; 'at': [i, value] for k = 0..7, "
                "i = splitmix64_mix((8*j + k + 1) * 0x9E3779B97F4A7C15 mod 2^64) mod "
                "numel"),
}


def golden_param_kinds(model):
    """name -> (kind, fan_in) for every parameter."""
    kinds = {}
    for mname, m in model.named_modules():
        prefix = mname + "." if mname else ""
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight
            fan_in = w.size(1) * (math.prod(w.shape[2:]) if w.dim() > 2 else 1)
            kinds[prefix + "weight"] = ("weight", fan_in)
            if m.bias is not None:
                kinds[prefix + "bias"] = ("bias", fan_in)
        elif isinstance(m, nn.BatchNorm2d):
            kinds[prefix + "weight"] = ("bn_weight", 0)
            kinds[prefix + "bias"] = ("bn_bias", 0)
    return kinds


def golden_values(kind, j, n, fan_in=0):
    """The golden fill of one tensor as a float64 tensor (not yet rounded)."""
    sin, cos = math.sin, math.cos
    if kind == "weight":
        s = 1.0 / math.sqrt(fan_in)
        v = [s * sin(0.731 * i + 0.001 * i * i + 1.37 * j + 0.5) for i in range(n)]
    elif kind == "bias":
        s = 1.0 / math.sqrt(fan_in)
        v = [s * cos(0.53 * i + 0.001 * i * i + 1.37 * j) for i in range(n)]
    elif kind == "bn_weight":
        v = [1 + 0.1 * sin(0.29 * i + j) for i in range(n)]
    elif kind == "bn_bias":
        v = [0.1 * cos(0.41 * i + j) for i in range(n)]
    elif kind == "running_mean":
        v = [0.05 * sin(0.17 * i + j) for i in range(n)]
    elif kind == "running_var":
        v = []
        for i in range(n):
            t = sin(0.11 * i + j)
            v.append(1 + 0.2 * (t * t))
    elif kind == "input":
        v = [sin(0.013 * i + 0.001 * i * i) * 1.5 for i in range(n)]
    else:
        raise ValueError(kind)
    return torch.tensor(v, dtype=torch.float64)


def golden_fill(model):
    """Fills parameters and running statistics in place (float32 rounding of
    the float64 formula); returns [(j, name, kind, fan_in)]."""
    kinds = golden_param_kinds(model)
    info = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            kind, fan_in = kinds[name]
            p.copy_(golden_values(kind, j, p.numel(), fan_in).float().view_as(p))
            info.append((j, name, kind, fan_in))
        for j, (name, b) in enumerate(model.named_buffers()):
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("running_mean", "running_var"):
                b.copy_(golden_values(leaf, j, b.numel()).float().view_as(b))
            elif leaf == "num_batches_tracked":
                b.zero_()
            else:
                raise ValueError("unexpected buffer %r" % name)
    return info


def golden_bits(t):
    """Sum of the float32 bit patterns as signed int32: an exact checksum."""
    return int(t.detach().float().contiguous().view(torch.int32).to(torch.int64).sum())


def golden_positions(j, n):
    """8 pseudo-random flat indices for tensor j (splitmix64's mixer)."""
    mask = 0xFFFFFFFFFFFFFFFF
    out = []
    for k in range(GOLDEN_SAMPLES):
        z = ((8 * j + k + 1) * 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append((z ^ (z >> 31)) % n)
    return out


def golden_summary(j, t):
    flat = t.detach().reshape(-1)
    d = flat.double()
    pos = golden_positions(j, flat.numel())
    return {
        "numel": flat.numel(),
        "sum": float(d.sum()),
        "sumsq": float((d * d).sum()),
        "sumabs": float(d.abs().sum()),
        "first": flat[:GOLDEN_SAMPLES].tolist(),
        "at": [[i, float(flat[i])] for i in pos],
    }


def golden_run(model, x, labels):
    """The golden sequence on a filled model (any dtype)."""
    out = {}
    model.eval()
    with torch.no_grad():
        out["logits_eval"] = model(x)
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    out["logits_train"] = logits.detach()
    out["loss_train"] = loss.detach()
    opt = torch.optim.SGD(model.parameters(), **GOLDEN_SGD)
    opt.zero_grad()
    loss.backward()
    out["grads"] = [p.grad.detach().clone() for p in model.parameters()]
    out["stats"] = [(name, b.detach().clone()) for name, b in model.named_buffers()]
    opt.step()
    out["params"] = [p.detach().clone() for p in model.parameters()]
    model.eval()
    with torch.no_grad():
        out["logits_after_step_eval"] = model(x)
    return out


def golden_f32_error(r32, r64):
    """How far PyTorch's own float32 run is from the same run in float64."""
    def max_abs(a, b):
        return float((a.double() - b).abs().max())

    def rel_rms(pairs):
        worst = 0.0
        for a, b in pairs:
            rms = float(b.pow(2).mean().sqrt())
            if rms > 0:
                worst = max(worst, float((a.double() - b).abs().max()) / rms)
        return worst

    def sum_rel(pairs):
        worst = 0.0
        for a, b in pairs:
            scale = float(b.abs().sum())
            if scale > 0:
                worst = max(worst, abs(float(a.double().sum()) - float(b.sum())) / scale)
        return worst

    e = {}
    for k in ("logits_eval", "logits_train", "logits_after_step_eval"):
        e[k + "_max_abs"] = max_abs(r32[k], r64[k])
        e[k + "_max_logit"] = float(r64[k].abs().max())
    e["loss_train_rel"] = abs(float(r32["loss_train"]) - float(r64["loss_train"])) / \
        abs(float(r64["loss_train"]))
    e["grad_max_abs_over_rms"] = rel_rms(zip(r32["grads"], r64["grads"]))
    e["grad_sum_err_over_sumabs"] = sum_rel(zip(r32["grads"], r64["grads"]))
    e["after_step_max_abs_over_rms"] = rel_rms(zip(r32["params"], r64["params"]))
    stats = [(a, b) for (_, a), (_, b) in zip(r32["stats"], r64["stats"])
             if a.is_floating_point()]
    e["stats_max_abs_over_rms"] = rel_rms(stats)
    return e


def golden(name):
    torch.manual_seed(0)
    model = build(name)
    info = golden_fill(model)
    x = golden_values("input", 0, GOLDEN_N * math.prod(INPUT_SHAPE)).float()
    x = x.view(GOLDEN_N, *INPUT_SHAPE)
    labels = torch.tensor(GOLDEN_LABELS, dtype=torch.int64)
    init = [p.detach().clone() for p in model.parameters()]
    init_stats = [b.detach().clone() for b in model.buffers()]
    m64 = build(name).double()
    with torch.no_grad():
        for p, q in zip(m64.parameters(), init):
            p.copy_(q.double())
        for b, q in zip(m64.buffers(), init_stats):
            b.copy_(q)
    r64 = golden_run(m64, x.double(), labels)
    r = golden_run(model, x, labels)

    params = []
    for (j, pname, kind, fan_in), p0, g, p1 in zip(info, init, r["grads"], r["params"]):
        params.append({
            "index": j,
            "name": pname,
            "kind": kind,
            "shape": list(p0.shape),
            "fan_in": fan_in,
            "init_bits": golden_bits(p0),
            "grad": golden_summary(j, g),
            "after_step": golden_summary(j, p1),
        })
    stats = []
    for b, (bname, t) in enumerate(r["stats"]):
        if t.is_floating_point():
            s = golden_summary(b, t)
            s["index"] = b
            s["name"] = bname
            stats.append(s)
    return {
        "meta": {
            "generator": "scripts/torch_reference.py golden",
            "torch_version": torch.__version__,
            "formula": GOLDEN_FORMULA,
            "sgd": GOLDEN_SGD,
            "float32_error": golden_f32_error(r, r64),
            "float32_error_note": ("PyTorch's float32 run against the same run in "
                                   "float64 (same float32 initial values): the "
                                   "scale of float32 rounding in this computation"),
        },
        "model": name,
        "labels": list(GOLDEN_LABELS),
        "input_bits": golden_bits(x),
        "logits_eval": r["logits_eval"].tolist(),
        "logits_train": r["logits_train"].tolist(),
        "loss_train": float(r["loss_train"]),
        "logits_after_step_eval": r["logits_after_step_eval"].tolist(),
        "params": params,
        "running_stats_after_train_forward": stats,
    }


def golden_text(doc):
    """The same fixture as 'key value...' lines for the C test (floats %.9g
    round-trip float32, sums %.17g)."""
    f9 = lambda v: "%.9g" % v
    f17 = lambda v: "%.17g" % v

    def row(key, vals):
        return " ".join([key] + list(vals))

    def flat(rows):
        return [v for r in rows for v in r]

    def summary(lines, key, idx, s):
        lines.append(row(key, [str(idx), str(s["numel"]), f17(s["sum"]), f17(s["sumsq"]),
                               f17(s["sumabs"])]))
        lines.append(row(key + "_first", [str(idx)] + [f9(v) for v in s["first"]]))
        lines.append(row(key + "_at", [str(idx)] + ["%d %s" % (i, f9(v))
                                                    for i, v in s["at"]]))

    lines = [
        "# golden check fixture for %s: scripts/torch_reference.py golden "
        "(docs/models.md, Golden checks); do not edit" % doc["model"],
        "# torch %s" % doc["meta"]["torch_version"],
        "# summaries: <key> <index> <numel> <sum> <sumsq> <sumabs>; <key>_first <index> "
        "<8 values>; <key>_at <index> <8 pairs: flat index, value>",
    ]
    for k, v in sorted(doc["meta"]["float32_error"].items()):
        lines.append(row("f32_error", [k, "%.3e" % v]))
    lines.append(row("model", [doc["model"]]))
    lines.append(row("labels", [str(v) for v in doc["labels"]]))
    lines.append(row("input_bits", [str(doc["input_bits"])]))
    for k in ("logits_eval", "logits_train"):
        lines.append(row(k, [f9(v) for v in flat(doc[k])]))
    lines.append(row("loss_train", [f9(doc["loss_train"])]))
    lines.append(row("logits_after_step_eval",
                     [f9(v) for v in flat(doc["logits_after_step_eval"])]))
    for p in doc["params"]:
        lines.append(row("param", [str(p["index"]), p["name"], p["kind"],
                                   str(p["fan_in"]), str(p["init_bits"])]))
        summary(lines, "grad", p["index"], p["grad"])
        summary(lines, "after", p["index"], p["after_step"])
    for s in doc["running_stats_after_train_forward"]:
        lines.append(row("stat_name", [str(s["index"]), s["name"]]))
        summary(lines, "stat", s["index"], s)
    return "\n".join(lines) + "\n"


def cmd_golden(args):
    torch.set_num_threads(1)
    for name in GOLDEN_MODELS:
        doc = golden(name)
        text = to_json(doc) + "\n"
        assert json.loads(text) == doc
        base = os.path.join(args.dir, "golden_%s" % name.lower())
        os.makedirs(args.dir, exist_ok=True)
        with open(base + ".json", "w", encoding="utf-8") as f:
            f.write(text)
        with open(base + ".txt", "w", encoding="utf-8") as f:
            f.write(golden_text(doc))
        if not args.quiet:
            e = doc["meta"]["float32_error"]
            print("%-9s loss %.6f  float32 vs float64: logits %.2e, grad/rms %.2e" %
                  (name, doc["loss_train"], e["logits_train_max_abs"],
                   e["grad_max_abs_over_rms"]), file=sys.stderr)
    return 0


def args_golden(p):
    p.add_argument("--dir", default="tests/fixtures",
                   help="directory for golden_<model>.json and golden_<model>.txt")
    p.add_argument("--quiet", action="store_true",
                   help="do not print the summary on standard error")


# name -> (one-line help, argument setup, handler)
COMMANDS = {
    "characteristics": ("parameter/buffer sizes, MACs and layer shapes of the 16 models",
                        args_characteristics, cmd_characteristics),
    "golden": ("fixed weights and input: logits and one SGD step of LeNet and ResNet18",
               args_golden, cmd_golden),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, setup, handler) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        setup(p)
        p.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
