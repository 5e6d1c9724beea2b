from dnetlab.cli import main

main()
