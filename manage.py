#!/usr/bin/env python
from tend.cli import main

if __name__ == "__main__":
    main()
