"""The sixteen CIFAR-10 networks of the study in PyTorch.

The same layers, parameter tensors (names, shapes, order) and forward
computation as greenml's C engine (tests/fixtures/torch_models.json holds
the counts both are checked against): the definitions the paper's code
(kuangliu/pytorch-cifar) trains, written independently. `build(name)` makes
one; `MODELS` lists them in the zoo's order. Used by the PyTorch engine of
`greenml bench --engine torch` (torch_engine.py) and by
scripts/torch_reference.py. Needs only torch.
"""

import math

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
