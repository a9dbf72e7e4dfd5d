from . import main
from . import websocket
from . import channel
from . import device
from . import auth
from . import playground
from . import metrics
