"""The seed's LeNet, written once and built with either framework's ``nn`` (torch.nn or
minigrad.nn), so both have the same layer names."""


def lenet(nn):
    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Flatten(),
                nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),
                nn.Linear(120, 84), nn.Sigmoid(),
                nn.Linear(84, 10))

        def forward(self, x):
            return self.net(x)

    return LeNet()
