"""Push delivery to phones, one layer below the models (nothing here
imports them, nor the ORM): what a provider is sent and what its answer
means.

- :mod:`.payload`: titles and bodies cut to the providers' 4 KB by UTF-8
  bytes, never inside a character;
- :mod:`.outcome`: one push's outcome (sent, retry, failed, dead token);
- :mod:`.expo`: the Expo push service (batches of 100, receipts);
- :mod:`.fcm`: Firebase Cloud Messaging HTTP v1 and its cached access token;
- :mod:`.settings`: the ``bus_mobile.push_*`` settings and their defaults;
- :mod:`.delivery`: sending prepared pushes to the providers, concurrently,
  outside any transaction.
"""

from .outcome import DEAD, DEFER, FAILED, RETRY, SENT, Outcome
