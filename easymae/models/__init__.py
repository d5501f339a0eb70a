from . import algorithms, backbones, heads, necks  # noqa: F401
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .cls_data_preprocessor import ClsDataPreprocessor  # noqa: F401
from .heads import *  # noqa: F401,F403
from .joint_data_preprocessor import JointDataPreprocessor  # noqa: F401
from .multiview_data_preprocessor import MultiViewDataPreprocessor  # noqa: F401
from .necks import *  # noqa: F401,F403
