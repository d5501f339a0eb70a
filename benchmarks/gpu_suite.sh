#!/bin/bash
# Every GPU figure of benchmarks/README.md in one command, on any machine
# with an NVIDIA GPU and easymae installed (pip install -e .):
#   bash benchmarks/gpu_suite.sh [part...]
# parts: pairs util jpeg data opt fp32 pairs2 pairs3 flip peer fsdp (default: all)
# Results go to $OUT (default /tmp/gpu_suite), one JSON per part.
# Parts jpeg and data read image files under data/ in the repository root:
# the JPEGs under data/jpeg/ (jpeg); data/photos/ and data/cifar10/sample/
# (data: see benchmarks/data_pipeline.py).
# Part peer needs mmpretrain 1.2.0's wheels in $WHL/peer (built by
# benchmarks/peer_wheels.sh); they go to a folder of their own.
# Without a package index, $WHL may also hold the wheels of easymae's own
# pure-Python dependencies (mmengine-lite, addict, yapf, termcolor,
# platformdirs), installed into /tmp/site.
# $PYTHON picks the interpreter (default python3).
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
if [ -n "$WHL" ]; then
  ls "$WHL"/*.whl >/dev/null 2>&1 &&
  { $PY -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target /tmp/site "$WHL"/*.whl || exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
fi
OUT=${OUT:-/tmp/gpu_suite}; mkdir -p "$OUT"
PARTS=${*:-pairs util jpeg data opt fp32 pairs2 pairs3 flip peer fsdp}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit --format=csv
$PY -c "import torch, torchvision, timm, mmengine, cv2; print('torch', torch.__version__, 'tv', torchvision.__version__, 'timm', timm.__version__, 'mmengine', mmengine.__version__, 'cv2', cv2.__version__)"
TS="$PY benchmarks/train_step.py --device cuda"
MERGED=MergedGroupsOptimWrapperConstructor
FAST="--cfg-options optim_wrapper.constructor=$MERGED optim_wrapper.optimizer.fused=True"
# mmengine's constructor and an unfused AdamW: the "default optimizer"
# rows of benchmarks/README.md (the config's default is now the fast one)
DEFAULT="--cfg-options optim_wrapper.constructor=DefaultOptimWrapperConstructor optim_wrapper.optimizer.fused=False"
for part in $PARTS; do
  echo "=== $part $(date -u +%FT%TZ)"
  case $part in
  pairs)  # MAE vs its encoder w/ [M], 8- and 1-block decoders
    timeout 120 $TS --amp bf16 --model mae --arch vit-base --batch 128 \
      --warmup 3 --steps 5 --repeats 5 $DEFAULT --compare "" \
      "--cfg-options model.encoder_mask_token=True" \
      "--cfg-options model.neck.decoder_depth=1" \
      "--cfg-options model.neck.decoder_depth=1 model.encoder_mask_token=True" \
      --json-out $OUT/pairs_vit-base.json 2>&1 | grep -v paramwise
    timeout 170 $TS --amp bf16 --model mae --arch vit-large --batch 64 \
      --warmup 3 --steps 5 --repeats 5 --peak-size 0 $DEFAULT --compare "" \
      "--cfg-options model.encoder_mask_token=True" \
      "--cfg-options model.neck.decoder_depth=1" \
      "--cfg-options model.neck.decoder_depth=1 model.encoder_mask_token=True" \
      --json-out $OUT/pairs_vit-large.json 2>&1 | grep -v paramwise ;;
  util)  # share of the matmul peak, fp32 and bf16
    timeout 150 $TS --model mae --arch vit-base --batch 256 --warmup 3 \
      --steps 5 --repeats 5 $DEFAULT --compare "" "--amp bf16" \
      "--amp bf16 --cfg-options optim_wrapper.optimizer.fused=True" \
      "--amp bf16 --model finetune" \
      --json-out $OUT/util_vit-base.json 2>&1 | grep -v paramwise ;;
  opt)  # optimizer launch overhead, fused AdamW, torch.compile (+profile)
    timeout 240 $TS --model mae --arch vit-base --batch 256 --amp bf16 \
      --warmup 3 --steps 5 --repeats 5 --profile $DEFAULT \
      --compare "$FAST" "" \
      "--cfg-options optim_wrapper.optimizer.fused=True" \
      "--cfg-options optim_wrapper.constructor=$MERGED" "$FAST --compile" \
      --json-out $OUT/opt_vit-base.json 2>&1 ;;
  fp32)
    timeout 90 $TS --model mae --arch vit-base --batch 256 --warmup 2 \
      --steps 3 --repeats 3 --peak-size 8192 $DEFAULT --compare "$FAST" "" \
      --json-out $OUT/fp32_vit-base.json 2>&1 ;;
  pairs2)  # the pairs with the fast optimizer, SimMIM beside MAE
    for a in "vit-base 256" "vit-large 128"; do set -- $a
    timeout 170 $TS --amp bf16 --model mae --arch $1 --batch $2 \
      --warmup 3 --steps 5 --repeats 5 --peak-size 8192 $FAST --compare "" \
      "--cfg-options model.encoder_mask_token=True" \
      "--cfg-options model.neck.decoder_depth=1" \
      "--cfg-options model.neck.decoder_depth=1 model.encoder_mask_token=True" \
      "--model simmim" --json-out $OUT/pairs2_$1.json 2>&1; done ;;
  pairs3)  # the pairs compiled (fusion takes the memory-bound share away)
    timeout 230 $TS --amp bf16 --model mae --arch vit-base --batch 256 \
      --warmup 3 --steps 5 --repeats 5 --peak-size 8192 $FAST --compile \
      --profile --compare "" "--cfg-options model.encoder_mask_token=True" \
      "--model simmim" --json-out $OUT/pairs3_vit-base.json 2>&1
    timeout 290 $TS --amp bf16 --model mae --arch vit-large --batch 128 \
      --warmup 3 --steps 5 --repeats 5 --peak-size 8192 $FAST --compile \
      --compare "" "--cfg-options model.encoder_mask_token=True" \
      "--model simmim" --json-out $OUT/pairs3_vit-large.json 2>&1 ;;
  flip)  # FLIP at mask 0.5 / 0.75 vs unmasked, 32-token text
    for a in "vit-base 256" "vit-large 128"; do set -- $a
    timeout 200 $TS --amp bf16 --model flip --arch $1 --batch $2 \
      --warmup 3 --steps 5 --repeats 5 --peak-size 8192 $FAST --compare \
      "--mask-ratio 0" "--mask-ratio 0.5" "--mask-ratio 0.75" \
      --json-out $OUT/flip_$1.json 2>&1; done ;;
  jpeg)  # real JPEG files vs in-memory batches (the config's optimizer;
    # JPEG_OPTS="$DEFAULT" for the default-optimizer row)
    timeout 200 $PY benchmarks/jpeg_train.py --data data/jpeg \
      --device cuda --arch vit-base --batch 256 --amp bf16 --workers 14 \
      --steps 15 --warmup 3 --repeats 3 $JPEG_OPTS \
      --json-out $OUT/jpeg_vit-base.json 2>&1 | grep -v paramwise ;;
  peer)  # ours vs mmpretrain 1.2.0's MAE ViT-B/16, fp32 and bf16, same
    # interpreter; the peer's packages (mmengine, mmcv-lite, ...) in their
    # own folder so they never meet ours (mmengine-lite)
    [ -d "$WHL/peer" ] || { echo "part peer: no wheels in \$WHL/peer"; continue; }
    $PY -m pip install -q --no-index --no-deps --no-compile \
      --no-cache-dir --upgrade --target /tmp/peer_site "$WHL"/peer/*.whl &&
    timeout 300 $PY benchmarks/peer_compare.py --device cuda \
      --peer-python $PY --peer-pythonpath /tmp/peer_site --batch 256 \
      --warmup 3 --steps 5 --repeats 5 \
      --json-out $OUT/peer_vit-base.json 2>&1 ;;
  fsdp)  # MAE ViT-L/16 under DDP vs FSDP2 on every GPU here (nccl):
    # per-rank model state, peak CUDA memory, s/step at one global batch
    N=$(nvidia-smi -L | wc -l)
    timeout 600 $PY benchmarks/fsdp_memory.py --arch large --nproc "$N" \
      --global-batch $((16 * N)) --steps 5 --warmup 2 \
      --json-out $OUT/fsdp_memory_vit-large.json 2>&1 ;;
  data)  # one loader worker on this machine's CPU
    timeout 60 $PY benchmarks/data_pipeline.py --data data \
      --repeats 3 --min-seconds 0.3 --json-out $OUT/data_pipeline.json ;;
  esac
done
echo "=== done $(date -u +%FT%TZ)"
