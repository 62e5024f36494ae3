# Python 2.7 wrapper for the Autobahn testsuite (wstest). The zope namespace package in the pip --target folder is
# only found through site.addsitedir, so the folder is added that way before wstest is imported.
#   python2.7 wstest.py LIBDIR -m fuzzingclient -s fuzzingclient.json
import site
import sys

site.addsitedir(sys.argv.pop(1))
from autobahntestsuite import wstest  # noqa: E402

wstest.run()
