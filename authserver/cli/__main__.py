"""``python -m authserver.cli`` is the same as the ``authserver`` console script."""

from authserver.cli import main

main()
