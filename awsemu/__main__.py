from awsemu.cli.main import main

raise SystemExit(main())
