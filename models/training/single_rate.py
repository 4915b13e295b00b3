"""Train one CompressAI network at one lambda (the classic per-rate-point recipe)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from compressai.losses import RateDistortionLoss
from compressai.models import CompressionModel
from compressai.optimizers import net_aux_optimizer

from models.training.crops import RandomCrops


@dataclass
class TrainLog:
    steps: int
    seconds: float
    final_loss: float
    final_bpp: float
    final_mse: float


def train_single_rate(
    net: CompressionModel,
    crops: RandomCrops,
    lmbda: float,
    steps: int,
    batch_size: int = 8,
    lr: float = 1e-3,
    aux_lr: float = 1e-3,
    log_every: int = 100,
) -> TrainLog:
    """Minimise ``lmbda * 255^2 * MSE + bpp`` (CompressAI's ``RateDistortionLoss``) for ``steps`` steps."""
    criterion = RateDistortionLoss(lmbda=lmbda)
    optimizers = net_aux_optimizer(net, {"net": {"type": "Adam", "lr": lr}, "aux": {"type": "Adam", "lr": aux_lr}})
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizers["net"], milestones=[int(steps * 0.8)], gamma=0.1)
    net.train()
    start = time.perf_counter()
    out = {}
    for step in range(1, steps + 1):
        x = crops.batch(batch_size)
        optimizers["net"].zero_grad()
        optimizers["aux"].zero_grad()
        out = criterion(net(x), x)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizers["net"].step()
        aux = net.aux_loss()
        aux.backward()
        optimizers["aux"].step()
        scheduler.step()
        if log_every and step % log_every == 0:
            print(
                f"  step {step}/{steps} loss={out['loss'].item():.4f} bpp={out['bpp_loss'].item():.3f} "
                f"mse={out['mse_loss'].item():.5f}",
                flush=True,
            )
    net.eval()
    net.update(force=True)
    return TrainLog(
        steps,
        time.perf_counter() - start,
        float(out["loss"].detach()),
        float(out["bpp_loss"].detach()),
        float(out["mse_loss"].detach()),
    )
