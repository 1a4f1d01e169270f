## The clinic pages: patients, the dose worksheet, preparation, the dose page and the bedside.
