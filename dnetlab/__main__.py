from dnetlab.cli.commands import main

main()
