from . import test_config
from . import test_mobile_websocket
