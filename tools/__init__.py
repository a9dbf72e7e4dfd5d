from . import validation
from . import presence
from . import channels
from . import bearer
from . import rate_limit
from . import devices
from . import processes
