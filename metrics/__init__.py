"""Image quality metrics as a pure library: no web, no queue, no database.

Each metric family lives in its own module behind ``metrics.base.Metric`` and is registered in
``metrics.registry``; ``metrics.scoring.score`` runs any selection on one reference and its
reconstructions. Families: ``psnr`` (psnr, psnr-y), ``ssim`` (ssim, ms-ssim, ms-ssim-y), ``vif``
(pixel-domain VIFp), ``fsim``, ``gmsd``, ``haarpsi``, ``lpips`` (lpips, lpips-vgg), ``dists``,
``vmaf`` (vmaf, vmaf-neg via libvmaf) and ``ssimulacra2``. Colour conventions live in
``metrics.colour``; local ImageNet backbones (found by torchvision's file names, hash checked) in
``metrics.weights``. Metrics are built by ``metrics.registry.create_metric(name, context)`` or
``build_metrics(context)``; the ``MetricContext`` carries the weights folder and device.
"""
