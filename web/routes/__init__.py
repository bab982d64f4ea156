"""The site's routes, one router per area; ``create_app`` includes them in this order."""

from web.routes import api, auth, downloads, forms, pages

ROUTERS = (auth.router, pages.router, downloads.router, forms.router, api.router)
