"""What low-precision training the machine can run, and why not.

On the CPU, bf16 matmuls are fast only with hardware support: AMX tiles
(``amx_bf16``, Sapphire Rapids and later) or AVX-512 bf16 dot products
(``avx512_bf16``). Without either, oneDNN emulates bf16 through fp32 and a
bf16 run is slower than fp32 while still losing precision, so it is
refused before training starts rather than discovered in the logs.
"""
import functools
from typing import Optional

import torch


@functools.lru_cache(maxsize=None)
def cpu_flags() -> frozenset:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where that
    file does not exist, e.g. on macOS)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return frozenset(line.split(':', 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_matrix_capability(flags=None) -> str:
    """'amx' | 'avx512_bf16' | 'none' | 'unknown': the best bf16 matrix
    instructions of this CPU."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return 'unknown'
    if 'amx_bf16' in flags:
        return 'amx'
    if 'avx512_bf16' in flags:
        return 'avx512_bf16'
    return 'none'


CAPABILITY_NAMES = {
    'amx': 'AMX (bf16 tiles)',
    'avx512_bf16': 'AVX-512 bf16 (no AMX)',
    'none': 'no bf16 matrix instructions',
    'unknown': 'unknown (no /proc/cpuinfo)',
}


def describe_cpu() -> str:
    """e.g. 'AMX (bf16 tiles); torch kernels AVX512'."""
    cap = CAPABILITY_NAMES[cpu_matrix_capability()]
    return f'{cap}; torch kernels {torch.backends.cpu.get_cpu_capability()}'


def precision_problem(dtype: torch.dtype, device_type: str,
                      flags=None) -> Optional[str]:
    """Why ``dtype`` training cannot run on ``device_type`` (None if it
    can). Unknown CPUs (no ``/proc/cpuinfo``) are given the benefit of the
    doubt."""
    if dtype == torch.float32:
        return None
    if device_type == 'cpu':
        if dtype == torch.float16:
            return ('float16 training on the CPU is not supported (no loss '
                    "scaling there, and no fast fp16 GEMMs); use "
                    "dtype='bfloat16'")
        if dtype == torch.bfloat16:
            if cpu_matrix_capability(flags) == 'none':
                return ('this CPU has neither AMX (amx_bf16) nor AVX-512 '
                        'bf16 (avx512_bf16): bf16 matmuls are emulated, '
                        'slower than fp32 and less precise; train in fp32 '
                        '(no AmpOptimWrapper)')
            return None
    if device_type == 'cuda' and torch.cuda.is_available():
        if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
            return (f'{torch.cuda.get_device_name()} does not support '
                    "bfloat16; use dtype='float16' (with loss scaling)")
    return None


def bf16_problem_here() -> Optional[str]:
    """Why bf16 training cannot run on this machine's default device (the
    GPU if there is one, else the CPU); None if it can."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return precision_problem(torch.bfloat16, device)
