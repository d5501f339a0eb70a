"""Gradient masking for joint training on two tasks (Li et al., 2021, 3.3).

One shared encoder learns from two losses whose gradients disagree. Each
shared weight is handed to one task by a binary mask M:

    g = M * grad(L_text) + (1 - M) * grad(L_image)     (shared parameters)
    g = grad(L_text) + grad(L_image)                   (everything else)

Outside the shared encoder a parameter belongs to one task (a tokenizer, a
head), so the sum there is simply its own task's gradient.

M is found the way iterative magnitude pruning (IMP) finds a sparse net:
it starts dense (every shared weight follows the text gradient) and every
``interval`` steps from ``start_iter`` its sparsity rises by ``delta``
until ``beta``; at each update the kept (text) entries are those with the
largest text-gradient magnitude, summed over the steps since the previous
update, among the entries kept so far (once handed to images, a weight
stays there). Before ``start_iter`` there is no mask yet and the two
gradients are summed: the plain joint objective (a dense M = 1 from step
0 would leave the image task no say in the encoder at all).

Top-k is global over the whole shared encoder by default: the share each
block keeps is then found, not imposed, which is what the paper's
per-block sparsity figures show; ``scope='tensor'`` keeps the same share
of every tensor instead.
"""
import math
from contextlib import contextmanager, nullcontext
from typing import Dict, List, Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.logging import MessageHub, print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper

from easymae.engine.precision import precision_problem
from easymae.registry import OPTIM_WRAPPERS

_DTYPES = {'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16}


def topk_mask(scores: Dict[str, torch.Tensor], sparsity: float,
              keep: Optional[Dict[str, torch.Tensor]] = None,
              scope: str = 'global') -> Dict[str, torch.Tensor]:
    """Bool masks (True = the text task's) keeping exactly the top
    ``round((1 - sparsity) * n)`` entries of ``scores`` among those ``keep``
    still holds, over all tensors (``scope='global'``) or per tensor."""
    def masked(name):
        s = scores[name].detach().float().flatten()
        if keep is not None:
            s = s.masked_fill(~keep[name].flatten(), -math.inf)
        return s

    def select(flat):
        out = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
        k = int(round((1.0 - sparsity) * flat.numel()))
        if k:
            out[torch.topk(flat, k, sorted=False).indices] = True
        return out

    names = list(scores)
    if scope == 'tensor':
        return {n: select(masked(n)).view_as(scores[n]) for n in names}
    flat = select(torch.cat([masked(n) for n in names]))
    out, start = {}, 0
    for n in names:
        size = scores[n].numel()
        out[n] = flat[start:start + size].view_as(scores[n])
        start += size
    return out


def combine_gradients(g_text: Optional[torch.Tensor],
                      g_image: Optional[torch.Tensor],
                      mask: Optional[torch.Tensor],
                      inplace: bool = False) -> Optional[torch.Tensor]:
    """The text gradient where ``mask`` holds, the image gradient elsewhere
    (taken as they are, not multiplied); their sum without a mask. A task
    that does not reach the parameter gives None: the other's gradient is
    returned as it is (None when neither does). ``inplace`` writes the
    result into ``g_text`` instead of a new tensor."""
    if g_text is None or g_image is None:
        if mask is not None and (g_text is not None or g_image is not None):
            zeros = torch.zeros_like(g_text if g_image is None else g_image)
            g_text = zeros if g_text is None else g_text
            g_image = zeros if g_image is None else g_image
        else:
            return g_image if g_text is None else g_text
    if mask is None:
        return g_text.add_(g_image) if inplace else g_text + g_image
    return torch.where(mask, g_text, g_image,
                       out=g_text if inplace else None)


def block_of(name: str, prefixes: Sequence[str]) -> str:
    """The group a shared parameter is reported under: 'block N' for
    ``...blocks.N.*``, else its name without the shared prefix."""
    parts = name.split('.')
    if 'blocks' in parts:
        i = parts.index('blocks')
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            return f'block {parts[i + 1]}'
    for prefix in prefixes:
        if name.startswith(prefix):
            return prefix.rstrip('.').split('.')[-1]
    return name


def sparsity_by_block(masks: Dict[str, torch.Tensor],
                      prefixes: Sequence[str]) -> Dict[str, float]:
    """Share of entries handed to images (M = 0), per block, in block
    order (then the rest: the final norm)."""
    pruned: Dict[str, List[int]] = {}
    for name, m in masks.items():
        c = pruned.setdefault(block_of(name, prefixes), [0, 0])
        c[0] += int((~m).sum())
        c[1] += m.numel()

    def order(group):
        return (0, int(group.split()[1])) if group.startswith('block ') \
            else (1, group)
    return {g: pruned[g][0] / pruned[g][1] for g in sorted(pruned, key=order)}


@OPTIM_WRAPPERS.register_module()
class GradientMaskOptimWrapper(OptimWrapper):
    """Args (beyond ``OptimWrapper``'s):
        shared: name prefixes of the shared encoder's parameters (in the
            unwrapped model).
        start_iter: the step of the first mask update (sparsity ``delta``).
        interval: steps between updates.
        delta: sparsity added per update, in (0, beta].
        beta: final sparsity, in [0, 1).
        scope: 'global' (top-k over the whole encoder) or 'tensor'.
        dtype: None (fp32) or 'bfloat16' autocast (``--amp`` replaces the
            wrapper, so set this instead).

    The model must say what each task's loss was: ``pop_task_losses()``
    returns ``{'text': loss, 'image': loss}`` of its last forward (ViTBERT
    does). Each is differentiated on its own (``autograd.grad``); under DDP
    the model runs in ``no_sync`` and both gradients are averaged over the
    processes here, so every rank computes the same mask.
    """

    TASKS = ('text', 'image')

    def __init__(self, shared: Sequence[str] = ('backbone.blocks.',
                                                'backbone.norm.'),
                 start_iter: int = 0, interval: int = 1000,
                 delta: float = 0.1, beta: float = 0.5,
                 scope: str = 'global', dtype: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= beta < 1.0:
            raise ValueError(f'GradientMaskOptimWrapper: optim_wrapper.beta '
                             f'(final sparsity) must be in [0, 1), got '
                             f'{beta}')
        if not 0.0 < delta <= beta:
            raise ValueError(
                f'GradientMaskOptimWrapper: optim_wrapper.delta ({delta}) '
                f'must be > 0 and not larger than optim_wrapper.beta '
                f'({beta})')
        if scope not in ('global', 'tensor'):
            raise ValueError("GradientMaskOptimWrapper: optim_wrapper.scope "
                             f"must be 'global' or 'tensor', got {scope!r}")
        if start_iter < 0 or interval < 1:
            raise ValueError('GradientMaskOptimWrapper: need start_iter >= 0 '
                             f'and interval >= 1, got {start_iter}, '
                             f'{interval}')
        if self._accumulative_counts != 1:
            raise ValueError('GradientMaskOptimWrapper: accumulative_counts '
                             'must be 1')
        if dtype is not None and dtype not in _DTYPES:
            raise ValueError(f'GradientMaskOptimWrapper: dtype must be None '
                             f"or 'bfloat16', got {dtype!r}")
        problem = precision_problem(
            _DTYPES[dtype], 'cuda' if torch.cuda.is_available() else 'cpu') \
            if dtype is not None else None
        if problem:
            raise ValueError(f'GradientMaskOptimWrapper: {problem}')
        if not shared:
            raise ValueError('GradientMaskOptimWrapper: optim_wrapper.shared '
                             'names no parameters')
        self.shared = tuple(shared)
        self.start_iter, self.interval = int(start_iter), int(interval)
        self.delta, self.beta, self.scope = float(delta), float(beta), scope
        self.cast_dtype = _DTYPES.get(dtype) if dtype else None
        self.num_updates = math.ceil(self.beta / self.delta - 1e-9)
        self.num_steps = 0
        self.masks: Optional[Dict[str, torch.Tensor]] = None
        self.scores: Dict[str, torch.Tensor] = {}
        self.history: List[List[float]] = []   # per update: per block
        self.history_iters: List[int] = []
        self._model = None

    # ------------------------------------------------------- schedule
    def target_sparsity(self, j: int) -> float:
        return min((j + 1) * self.delta, self.beta)

    def update_due(self, step: int) -> Optional[int]:
        """The index of the mask update made at ``step``, if any."""
        j, rest = divmod(step - self.start_iter, self.interval)
        return j if step >= self.start_iter and rest == 0 and \
            j < self.num_updates else None

    # ----------------------------------------------------------- steps
    @contextmanager
    def optim_context(self, model):
        self._model = model.module if is_model_wrapper(model) else model
        # gradients are averaged here, after both tasks' passes
        sync = model.no_sync() if hasattr(model, 'no_sync') \
            else nullcontext()
        device = next(self._model.parameters()).device.type
        cast = torch.autocast(device, dtype=self.cast_dtype) \
            if self.cast_dtype is not None else nullcontext()
        with sync, cast:
            yield

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        """``loss`` (their sum, as mmengine hands it over) is not used:
        each task's loss is differentiated on its own."""
        model = self._model
        pop = getattr(model, 'pop_task_losses', None)
        if pop is None:
            raise TypeError(
                f'GradientMaskOptimWrapper: {type(model).__name__} has no '
                "pop_task_losses(); the model must report {'text', "
                "'image'} losses (e.g. ViTBERT)")
        named, grads = self.task_gradients(model, pop())
        shared = [i for i, (n, _) in enumerate(named)
                  if n.startswith(self.shared)]
        if not shared:
            raise ValueError(
                f'GradientMaskOptimWrapper: no trainable parameter of '
                f'{type(model).__name__} starts with optim_wrapper.shared='
                f'{self.shared}')
        self._update_mask([named[i][0] for i in shared],
                          [grads['text'][i] for i in shared])
        # the task gradients are this step's own: combine in place
        for (_, p), g in zip(named, self.combined(named, grads,
                                                  inplace=True)):
            p.grad = None if g is None else g.to(p.dtype)
        self.num_steps += 1
        self._inner_count += 1
        self.step(**(step_kwargs or {}))
        self.zero_grad(**(zero_kwargs or {}))

    def task_gradients(self, model, losses: Dict[str, torch.Tensor]):
        """(trainable (name, parameter) pairs, {task: their gradients})."""
        named = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
        params = [p for _, p in named]
        return named, {t: self._task_grads(losses[t], params)
                       for t in self.TASKS}

    def combined(self, named, grads, inplace: bool = False
                 ) -> List[Optional[torch.Tensor]]:
        """The update of each parameter under the current mask (None for a
        parameter neither task reached). ``inplace`` reuses the text
        gradients' storage (no full-size allocation per step)."""
        out = []
        seen = set()
        for i, (name, _) in enumerate(named):
            mask = self.masks.get(name) if self.masks is not None else None
            g_text = grads['text'][i]
            # autograd may hand one tensor to two parameters: write into a
            # tensor only once
            own = inplace and g_text is not None and \
                g_text.data_ptr() not in seen
            if own:
                seen.add(g_text.data_ptr())
            out.append(combine_gradients(g_text, grads['image'][i], mask,
                                         inplace=own))
        return out

    def _task_grads(self, loss, params) -> List[Optional[torch.Tensor]]:
        """The gradient of ``loss`` for each parameter; None where the
        loss does not reach it (the other task's tokenizer and head)."""
        g = list(torch.autograd.grad(loss, params, retain_graph=True,
                                     allow_unused=True))
        if dist.is_available() and dist.is_initialized() and \
                dist.get_world_size() > 1:
            # every rank has the same graph, so the same None entries
            used = [x for x in g if x is not None]
            flat = torch.cat([x.reshape(-1).float() for x in used])
            dist.all_reduce(flat)
            flat /= dist.get_world_size()
            start = 0
            for i, x in enumerate(g):
                if x is None:
                    continue
                g[i] = flat[start:start + x.numel()].view_as(x).to(x.dtype)
                start += x.numel()
        return g

    def _update_mask(self, names: List[str], text_grads) -> None:
        if self.masks is not None and \
                len(self.history) >= self.num_updates:
            return  # final sparsity reached: no more scores needed
        for name, g in zip(names, text_grads):
            if g is None:
                continue
            score = self.scores.get(name)
            if score is None:
                self.scores[name] = g.detach().abs().float()
            else:
                self.scores[name] = score.to(g.device).add_(g.detach().abs())
        j = self.update_due(self.num_steps)
        if j is None:
            return
        if self.masks is not None:
            self.masks = {n: m.to(self.scores[n].device)
                          for n, m in self.masks.items()}
        target = self.target_sparsity(j)
        self.masks = topk_mask({n: self.scores[n] for n in names}, target,
                               self.masks, self.scope)
        self.scores = {}
        blocks = sparsity_by_block(self.masks, self.shared)
        self.history.append(list(blocks.values()))
        self.history_iters.append(self.num_steps)
        total = sum(int((~m).sum()) for m in self.masks.values()) / sum(
            m.numel() for m in self.masks.values())
        print_log(
            f'gradient mask update {j + 1}/{self.num_updates} at step '
            f'{self.num_steps}: sparsity {total:.4f} (target {target:.4f}); '
            'per block: ' + ', '.join(f'{g} {v:.3f}'
                                      for g, v in blocks.items()),
            logger='current')
        MessageHub.get_current_instance().update_scalar(
            'train/mask_sparsity', total)

    # ------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        state = super().state_dict()
        state['gradient_mask'] = dict(
            num_steps=torch.tensor(self.num_steps),
            masks={n: m.cpu() for n, m in (self.masks or {}).items()},
            scores={n: s.cpu() for n, s in self.scores.items()},
            history=torch.tensor(self.history, dtype=torch.float64),
            history_iters=torch.tensor(self.history_iters,
                                       dtype=torch.long))
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        ours = state_dict.pop('gradient_mask', None)
        super().load_state_dict(state_dict)
        if ours is None:
            return
        self.num_steps = int(ours['num_steps'])
        self.masks = {n: m.bool() for n, m in ours['masks'].items()} or None
        self.scores = dict(ours['scores'])
        self.history = ours['history'].tolist()
        self.history_iters = ours['history_iters'].tolist()
