"""Image quality metrics as a pure library: no web, no queue, no database.

Each metric family lives in its own module behind ``metrics.base.Metric`` and is registered in
``metrics.registry``; ``metrics.scoring.score`` runs any selection on one reference and its
reconstructions. Families: ``psnr`` (psnr, psnr-y), ``ssim`` (ssim, ms-ssim, ms-ssim-y), ``vif``
(wavelet-domain VIF), ``vifp`` (pixel-domain VIFp), ``iw_ssim``, ``fsim``, ``gmsd``, ``haarpsi``,
``lpips`` (lpips, lpips-vgg), ``dists``, ``vmaf`` (vmaf, vmaf-neg via libvmaf), ``ssimulacra2``,
``cvvdp`` and ``flip`` (observer models on a display of ``metrics.viewing``) and ``butteraugli``
(butteraugli, butteraugli-3norm via libjxl's tool). Colour conventions live in
``metrics.colour``; local ImageNet backbones (found by torchvision's file names, hash checked) in
``metrics.weights``. Metrics are built by ``metrics.registry.create_metric(name, context)`` or
``build_metrics(context)``; the ``MetricContext`` carries the weights folder, device and display model.
"""
