from mockinterview.cli.app import main

main()
