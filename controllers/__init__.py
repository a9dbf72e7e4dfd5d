from . import main
from . import websocket
from . import channel
from . import device
from . import playground
