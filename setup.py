"""easymae: a config-registry toolbox for masked-image pretraining of ViTs."""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'easymae', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


# Ranges, never exact pins: exact pins (timm==0.3.2, mmcv asserts) are the
# most common complaint about the reference code bases.
install_requires = [
    # torch >= 2.6: torch.load defaults to weights_only=True, which our
    # checkpoint format is built for. torchvision must import beside torch,
    # or timm cannot be imported at all.
    'torch>=2.6',
    'torchvision>=0.21',
    'timm>=1.0',
    # mmengine-lite is mmengine without the GUI opencv wheel; same module.
    'mmengine-lite>=0.10,<1.0',
    'opencv-python-headless>=4.5',
    'pillow>=9.0',
    'numpy>=1.23',
    # the embedded default data set (handwritten digits) ships in sklearn
    'scikit-learn>=1.0',
    # CLIP's BPE tokenizer and its vocabulary file, for FLIP
    'open_clip_torch>=2.20',
    'safetensors>=0.4',
    # mmengine's Visualizer needs it; so do our plots and pictures
    'matplotlib>=3.5',
]

setup(
    name='easymae',
    version=read_version(),
    description='Masked-image pretraining of Vision Transformers '
    '(MAE, SimMIM, FLIP) on mmengine and timm',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['easymae', 'easymae.*']),
    package_data={'easymae.hub': ['zoo.json']},
    python_requires='>=3.9',
    install_requires=install_requires,
    extras_require={
        'test': ['pytest>=7', 'tensorboard>=2.10'],
        'tensorboard': ['tensorboard>=2.10'],
    },
    license='Apache-2.0',
)
