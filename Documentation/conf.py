# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of wdmdma's documentation; `make docs`
# (scripts/docs.sh) renders it. The API reference comes from the
# kernel-doc comments through the kernel's own Sphinx extension: set
# WDMDMA_KERNEL_TREE to a Linux source tree that has
# Documentation/sphinx/kerneldoc.py and scripts/kernel-doc (docs.sh
# unpacks those from Debian's linux-source-6.1, which works with
# bookworm's Sphinx 5.3).

import os
import re
import sys

tree = os.environ.get('WDMDMA_KERNEL_TREE')
if not tree or not os.path.isfile(os.path.join(tree, 'scripts', 'kernel-doc')):
    sys.exit('conf.py: WDMDMA_KERNEL_TREE must name a Linux source tree '
             '(scripts/docs.sh sets it)')
sys.path.insert(0, os.path.join(tree, 'Documentation', 'sphinx'))

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))

def package_version():
    """dkms.conf's PACKAGE_VERSION: the project's one version number."""
    with open(os.path.join(top, 'dkms.conf')) as f:
        m = re.search(r'^PACKAGE_VERSION="([^"]+)"$', f.read(), re.M)
    if not m:
        sys.exit('conf.py: no PACKAGE_VERSION in dkms.conf')
    return m.group(1)

project = 'wdmdma'
author = 'The wdmdma authors'
copyright = '2026, The wdmdma authors'
version = release = package_version()

# kerneldoc: the `.. kernel-doc::` directive; automarkup: turns "name()"
# and "struct name" in prose into links to their API entries.
extensions = ['kerneldoc', 'automarkup']
kerneldoc_bin = os.path.join(tree, 'scripts', 'kernel-doc')
kerneldoc_srctree = top
# A kernel-doc warning fails the directive, and so (sphinx-build -W) the
# whole build.
os.environ['KDOC_WERROR'] = '1'

primary_domain = 'c'
highlight_language = 'none'
root_doc = 'index'
exclude_patterns = ['output']

html_theme = 'sphinx_rtd_theme'
html_title = 'wdmdma ' + release
html_show_sourcelink = False
